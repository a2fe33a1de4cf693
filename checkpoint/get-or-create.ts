import type { StreamingContext } from 'sluice';

/**
 * Spark's `getOrCreate`: builds the program's context on the checkpoint `directory`. When the
 * directory holds a checkpoint, `start()` recovers from it (state at the last commit, then a
 * replay of the logged batches after it); otherwise the context starts fresh. `build` must create
 * the context with `{ checkpoint: directory }` and define the same graph every time: the
 * checkpoint checks that it does (`CHECKPOINT_INCOMPATIBLE`).
 *
 * @throws TypeError when the context `build` returns does not use `directory`.
 * @example
 * const ctx = await getOrCreate('./ckpt', (checkpoint) => {
 *   const ctx = new StreamingContext({ batchInterval: '1s', checkpoint });
 *   ctx.rateStream({ rowsPerSecond: 100, startTime: 0 }).pipe(...);
 *   return ctx;
 * });
 * await ctx.start();
 */
export async function getOrCreate(directory: string, build: (checkpoint: string) => StreamingContext | Promise<StreamingContext>): Promise<StreamingContext> {
  const ctx = await build(directory);
  if (ctx.checkpointDirectory !== directory) {
    throw new TypeError(`getOrCreate: the context must be created with { checkpoint: '${directory}' } (use the argument build receives); it has ${ctx.checkpointDirectory === undefined ? 'no checkpoint' : `'${ctx.checkpointDirectory}'`}.`);
  }
  return ctx;
}
