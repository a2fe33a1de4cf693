import assert from 'node:assert/strict';
import type { BatchProgress, DurationLike, StreamingContext } from 'sluice';

/** Throws when `actual` differs from `expected` (default: `assert.deepStrictEqual`). */
export type Compare<T> = (actual: T, expected: T) => void;

/** How a law runs its jobs (on a `ManualClock`). */
export interface LawRunOptions {
  /** The batch interval (default 1000 ms). */
  readonly batchInterval?: DurationLike;
  /** Partitions of every input batch and keyed result (default 2). */
  readonly numPartitions?: number;
  /** The most input batches a scenario has (default 8). */
  readonly maxBatches?: number;
}

/** The run options of `runBatches` a law's options give. */
export function runOptions(options: LawRunOptions): { batchInterval: DurationLike; numPartitions: number } {
  return { batchInterval: options.batchInterval ?? 1000, numPartitions: options.numPartitions ?? 2 };
}

/** Runs `fn` and prefixes the message of what it throws with the law it broke. */
export function holds(law: string, fn: () => void): void {
  try {
    fn();
  } catch (error) {
    if (error instanceof Error) error.message = `${law}: ${error.message}`;
    throw error;
  }
}

/** Checks `compare(actual, expected)`, naming the law when it throws. */
export function same<T>(law: string, actual: T, expected: T, compare: Compare<T> = assert.deepStrictEqual): void {
  holds(law, () => {
    compare(actual, expected);
  });
}

/** A `configure` for `runBatches` that collects every completed batch's progress, by batch id. */
export function progressInto(progress: BatchProgress[]): (ctx: StreamingContext) => void {
  return (ctx) => {
    ctx.addListener((e) => {
      if (e.type === 'batchCompleted') progress[e.progress.batchId] = e.progress;
    });
  };
}
