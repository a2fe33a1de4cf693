// Scenario 1's Sluice job alone (map, filter, mapToPair, reduceByKey per batch, on a
// ManualClock), for a profiler: after `npm run build`,
//   node --cpu-prof --cpu-prof-dir=/tmp/prof bench/keyed-profile.mjs
// SCALE (default 1: 10M events over 100,000 keys) and ROUNDS (default 1) from the environment.
// Input generation (`makeBatch`) is in the profile but not in the printed time.
import { filter, map, mapToPair, reduceByKey } from 'sluice';
import { keyedPipeline } from './keyed.mjs';
import { keyNames, makeBatch, runSluice } from './lib.mjs';

const scale = Number(process.env.SCALE ?? 1);
const keys = keyNames(Math.round(100_000 * scale));
const batchSize = Math.round(500_000 * scale);
const numBatches = 20;
const batch = (/** @type {number} */ b) => makeBatch({ b, size: batchSize, keys, eventsPerSecond: 100_000 });
for (let r = 0; r < Number(process.env.ROUNDS ?? 1); r++) {
  let sum = 0;
  const { ms } = await runSluice({
    numBatches,
    batch,
    build: keyedPipeline({ map, filter, mapToPair, reduceByKey }),
    onOutput: (records) => {
      for (const [, v] of records) sum += v;
    },
  });
  console.log(`${(numBatches * batchSize).toLocaleString('en')} events in ${ms.toFixed(0)} ms (batches only), sum ${sum}`);
}
