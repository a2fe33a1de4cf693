/** One unit of work of a batch: usually one partition of one operator. */
export type Task<R> = () => R;

/**
 * Runs the tasks of a batch. Today tasks run inline; the interface lets a worker pool run them
 * later (with retries and speculative re-runs) without operators knowing.
 */
export interface Executor {
  /** Runs every task and resolves with their results in task order; rejects with the first error. */
  run<R>(tasks: readonly Task<R>[]): Promise<R[]>;
}

/** Runs tasks one after another on the calling thread. */
export class InlineExecutor implements Executor {
  // eslint-disable-next-line @typescript-eslint/require-await -- async turns a throwing task into a rejection
  async run<R>(tasks: readonly Task<R>[]): Promise<R[]> {
    return tasks.map((task) => task());
  }
}
