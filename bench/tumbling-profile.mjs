// Scenario 2's Sluice job alone (withWatermark, mapToPair, eventTimeWindow(tumbling('1s'),
// agg.count()) in append mode, on a ManualClock), for a profiler: after `npm run build`,
//   node --cpu-prof --cpu-prof-dir=/tmp/prof bench/tumbling-profile.mjs
// SCALE (default 1: 10M events over 100,000 keys) and ROUNDS (default 1) from the environment.
// Input generation (`makeBatch`) is in the profile but not in the printed time.
import { mapToPair } from 'sluice';
import { agg, eventTimeWindow, tumbling, withWatermark } from 'sluice/windows';
import { keyNames, makeBatch, runSluice } from './lib.mjs';

const scale = Number(process.env.SCALE ?? 1);
const keys = keyNames(Math.round(100_000 * scale));
const batchSize = Math.round(500_000 * scale);
const numBatches = 20;
const eventsPerSecond = Math.round(100_000 * scale);
const batch = (/** @type {number} */ b) => makeBatch({ b, size: batchSize, keys, eventsPerSecond, jitterMs: 500 });
for (let r = 0; r < Number(process.env.ROUNDS ?? 1); r++) {
  const { ms, outputs } = await runSluice({
    numBatches,
    batch,
    build: (input) =>
      input.pipe(
        withWatermark((/** @type {import('./lib.mjs').BenchEvent} */ e) => e.time, 1000),
        mapToPair((e) => [e.key, e]),
        eventTimeWindow(tumbling(1000), agg.count(), { outputMode: 'append' }),
      ),
  });
  console.log(`${(numBatches * batchSize).toLocaleString('en')} events in ${ms.toFixed(0)} ms (batches only), ${outputs.toLocaleString('en')} results`);
}
