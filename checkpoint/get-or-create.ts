import type { StreamingContext } from 'sluice';
import { levelCheckpoint, type LevelCheckpointOptions, type LevelCheckpointStorage } from './level-checkpoint.js';

/** Options of {@link getOrCreate}: those of the checkpoint it creates (see `levelCheckpoint`). */
export type GetOrCreateOptions = LevelCheckpointOptions;

/**
 * Spark's `getOrCreate`: builds the program's context on a LevelDB checkpoint in `directory`. When
 * the directory holds a checkpoint, `start()` recovers from it (state at the last commit, then a
 * replay of the logged batches after it); otherwise the context starts fresh. `build` receives the
 * checkpoint (`levelCheckpoint(directory, options)`), must create the context with it as its
 * `checkpoint` option, and must define the same graph every time: the checkpoint checks that it
 * does (`CHECKPOINT_INCOMPATIBLE`). The context's own options (`watermarkPolicy`, `onError`, ...)
 * go on the context `build` creates; a checkpoint keeps the `watermarkPolicy` it was started with
 * (a restart with another logs a warning and keeps the checkpoint's).
 *
 * The context it returns runs streaming with `start()`, or over sources that end with
 * `runToCompletion()` (a bounded run, docs/bounded-runs.md): killed and run again, a bounded run
 * resumes where it stopped; a streaming run on the same directory can continue a bounded one
 * (run it with `{ flush: false }`).
 *
 * @throws TypeError or RangeError for a bad directory or options (before `build` runs).
 * @throws TypeError when the context `build` returns does not use the checkpoint it was given.
 * @example
 * const ctx = await getOrCreate('./ckpt', (checkpoint) => {
 *   const ctx = new StreamingContext({ batchInterval: '1s', checkpoint });
 *   ctx.rateStream({ rowsPerSecond: 100, startTime: 0 }).pipe(...);
 *   return ctx;
 * }, { interval: 5, stateCacheSize: 1_000_000 });
 * await ctx.start();
 */
export async function getOrCreate(
  directory: string,
  build: (checkpoint: LevelCheckpointStorage) => StreamingContext | Promise<StreamingContext>,
  options: GetOrCreateOptions = {},
): Promise<StreamingContext> {
  const checkpoint = levelCheckpoint(directory, options);
  const ctx = await build(checkpoint);
  if (ctx.checkpoint !== checkpoint) {
    throw new TypeError(`getOrCreate: the context must be created with the checkpoint build receives, as { checkpoint } (it has ${ctx.checkpoint === undefined ? 'no checkpoint' : `one at ${ctx.checkpoint.location}`}).`);
  }
  return ctx;
}
