import type { Executor, StageContext, Task, TaskStep } from '../scheduler/executor.js';
import { inputSize, payloadOf, resultOf, type TaskReply } from './task-wire.js';
import type { PoolTask, StageFigures as PoolStageFigures } from './worker-pool.js';

/** What the executor needs of a worker pool (`WorkerPool`). */
export interface TaskPool {
  runStage<R>(name: string, tasks: PoolTask[]): Promise<{ results: R[]; figures: PoolStageFigures }>;
}

/**
 * Runs each stage's tasks on a pool of worker threads, each of which built the job's graph from
 * its module (see `runJob`): a task travels as its step's node id and name and its input; the
 * reply brings the result and the records the task set aside, merged in task order. Work that
 * stays in the driver (`run`) runs inline. Each stage's figures go to the batch's progress event.
 *
 * A step whose workers cache state (keyed state that stays local, see `TaskWire.prefer`) asks for
 * the worker that holds each task's state; a task another worker takes (a steal, a speculative
 * copy, a retry elsewhere) is sent whole, and one a worker could not run for want of that state
 * (a fresh worker replaced the one that held it) is run again, sent whole.
 */
export class PoolExecutor implements Executor {
  readonly #pool: TaskPool;
  readonly #locality: boolean;

  /**
   * @param options.locality - keyed state stays with the worker that last ran its key groups
   * (default true); `false` sends every state task whole to any worker, to measure what locality saves.
   */
  constructor(pool: TaskPool, options: { readonly locality?: boolean } = {}) {
    this.#pool = pool;
    this.#locality = options.locality ?? true;
  }

  // eslint-disable-next-line @typescript-eslint/require-await -- async turns a throwing task into a rejection
  async run<R>(tasks: readonly Task<R>[]): Promise<R[]> {
    return tasks.map((task) => task());
  }

  async runStage<I, R>(step: TaskStep<I, R>, inputs: readonly I[], context: StageContext): Promise<R[]> {
    if (inputs.length === 0) return [];
    const wire = step.wire;
    const local = this.#locality;
    const replies = new Array<TaskReply>(inputs.length);
    const workers = new Array<number>(inputs.length);
    const figures = { stage: step.stage, tasks: inputs.length, retried: 0, speculated: 0, millis: 0 };
    const state = { stateRowsShipped: 0, stateRowsCached: 0, stateMisses: 0 };
    // Every task at first; then the tasks whose worker missed their state (sent whole: they cannot miss again).
    let todo = inputs.map((_, i) => i);
    for (let round = 0; todo.length > 0; round++) {
      if (round > 1) throw new Error(`${step.stage}: a task sent whole missed its state again (a bug in Sluice; please report it)`);
      const tasks = todo.map((i): PoolTask => {
        const input = inputs[i] as I;
        const prefer = local ? wire?.prefer?.(input) : undefined;
        const payload = payloadOf(step, input, context);
        const size = inputSize(input);
        if (prefer === undefined || wire?.elsewhere === undefined) return { payload, size };
        // Taken by another worker than the one that holds its state: sent whole (once, for every such run).
        let whole: unknown;
        const elsewhere = (): unknown => {
          if (whole === undefined) {
            wire.elsewhere?.(input);
            whole = payloadOf(step, input, context);
          }
          return whole;
        };
        return { payload, prefer, elsewhere, size };
      });
      const { results, figures: ran } = await this.#pool.runStage<TaskReply>(step.stage, tasks);
      figures.retried += ran.retried;
      figures.speculated += ran.speculated;
      figures.millis += ran.millis;
      const missed: number[] = [];
      todo.forEach((i, t) => {
        const reply = results[t] as TaskReply;
        if (wire?.missed?.(reply.result, inputs[i] as I) === true) missed.push(i);
        replies[i] = reply;
        workers[i] = ran.workerOf[t] as number;
      });
      state.stateMisses += missed.length;
      todo = missed;
    }
    // In task order: the records the tasks set aside merge as if they had run one after another.
    const out = replies.map((reply, i) => {
      const input = inputs[i] as I;
      const result = resultOf(step, reply, input, context);
      // Without locality no placement is recorded: every task is sent whole.
      if (local) wire?.ranOn?.(input, workers[i] as number);
      const shipped = wire?.shipped?.(input);
      if (shipped !== undefined) {
        state.stateRowsShipped += shipped.rows;
        state.stateRowsCached += shipped.cached;
      }
      return result;
    });
    context.reportStage(wire?.shipped === undefined ? figures : { ...figures, ...state });
    return out;
  }
}
