// Scenario 7: heap bytes per state entry of the memory state store, for a small value (a count
// and a sum), via mapWithState. Needs node --expose-gc (npm run bench passes it).
import { ManualClock, StreamingContext, foreachBatch, mapToPair } from 'sluice';
import { mapWithState, stateSpec } from 'sluice/state';
import { performance } from 'node:perf_hooks';
import { gc, row } from './lib.mjs';

/** @param {{ scale: number }} o @returns {Promise<import('./lib.mjs').BenchRow[]>} */
export async function memoryScenario({ scale }) {
  const S = '7 memory: bytes per state entry';
  const numKeys = Math.round(1_000_000 * scale);
  const perBatch = Math.round(250_000 * scale);
  const hasGc = typeof (/** @type {{ gc?: unknown }} */ (globalThis).gc) === 'function';
  const clock = new ManualClock();
  const ctx = new StreamingContext({ batchInterval: 1000, clock });
  // Integer keys, so the figure is the store's own cost and not that of key strings.
  const spec = stateSpec((/** @type {number} */ _key, /** @type {number | undefined} */ value, /** @type {import('sluice/state').State<{ count: number, sum: number }>} */ state) => {
    const old = state.getOption() ?? { count: 0, sum: 0 };
    state.update({ count: old.count + 1, sum: old.sum + (value ?? 0) });
    return undefined;
  });
  /** @type {number[][]} */
  const queue = [];
  let outputs = 0;
  ctx
    .queueStream(queue)
    .pipe(mapToPair((/** @type {number} */ i) => [i, i % 100]), mapWithState(spec), foreachBatch((records) => void (outputs += records.length)));
  await ctx.start();
  await clock.advance(1000); // one empty batch before the baseline, so the engine is warmed up
  gc();
  const before = process.memoryUsage().heapUsed;
  let ms = 0;
  // Keys 0 .. numKeys-1, perBatch a batch, then empty batches, so that no held batch keeps input.
  for (let b = 0; b * perBatch < numKeys + 3 * perBatch; b++) {
    const from = b * perBatch;
    if (from < numKeys) queue.push(Array.from({ length: Math.min(perBatch, numKeys - from) }, (_, j) => from + j));
    const t0 = performance.now();
    await clock.advance(1000);
    ms += performance.now() - t0;
  }
  gc();
  const after = process.memoryUsage().heapUsed;
  await ctx.stop();
  const perEntry = (after - before) / numKeys;
  return [
    {
      ...row(S, 'mapWithState, memory store', numKeys, ms),
      bytesPerEntry: Math.round(perEntry),
      target: '<= 200 B',
      met: hasGc ? perEntry <= 200 : undefined,
      note: `${numKeys} keys (${outputs} outputs: mapWithState emits nothing here), ${Math.round((after - before) / 1e6)} MB heap${hasGc ? '' : '; NO global.gc: run with --expose-gc, figure unreliable'}`,
    },
  ];
}
