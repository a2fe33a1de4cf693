import type { StreamingContext } from 'sluice';
import { checkpointerOf } from './checkpoint-access.js';
import { checkStateCacheSize } from './level-checkpointer.js';

/** Options of {@link getOrCreate}. */
export interface GetOrCreateOptions {
  /**
   * How many state entries each stateful operator keeps in memory (decoded values, and keys known
   * to be absent), the rest being read from the checkpoint's LevelDB in one bulk read per batch.
   * Default `DEFAULT_STATE_CACHE_SIZE` (100,000). When every key's entry fits, a batch reads
   * nothing from LevelDB: size it to the operator's key count if memory allows.
   */
  readonly stateCacheSize?: number;
}

/**
 * Spark's `getOrCreate`: builds the program's context on the checkpoint `directory`. When the
 * directory holds a checkpoint, `start()` recovers from it (state at the last commit, then a
 * replay of the logged batches after it); otherwise the context starts fresh. `build` must create
 * the context with `{ checkpoint: directory }` and define the same graph every time: the
 * checkpoint checks that it does (`CHECKPOINT_INCOMPATIBLE`).
 *
 * @throws RangeError when `stateCacheSize` is not a non-negative integer (before `build` runs).
 * @throws TypeError when the context `build` returns does not use `directory`.
 * @example
 * const ctx = await getOrCreate('./ckpt', (checkpoint) => {
 *   const ctx = new StreamingContext({ batchInterval: '1s', checkpoint });
 *   ctx.rateStream({ rowsPerSecond: 100, startTime: 0 }).pipe(...);
 *   return ctx;
 * }, { stateCacheSize: 1_000_000 });
 * await ctx.start();
 */
export async function getOrCreate(
  directory: string,
  build: (checkpoint: string) => StreamingContext | Promise<StreamingContext>,
  options: GetOrCreateOptions = {},
): Promise<StreamingContext> {
  const stateCacheSize = options.stateCacheSize === undefined ? undefined : checkStateCacheSize(options.stateCacheSize, 'getOrCreate');
  const ctx = await build(directory);
  if (ctx.checkpointDirectory !== directory) {
    throw new TypeError(`getOrCreate: the context must be created with { checkpoint: '${directory}' } (use the argument build receives); it has ${ctx.checkpointDirectory === undefined ? 'no checkpoint' : `'${ctx.checkpointDirectory}'`}.`);
  }
  if (stateCacheSize !== undefined) checkpointerOf(ctx).stateCacheSize = stateCacheSize;
  return ctx;
}
