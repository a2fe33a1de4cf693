// Scenario 1 across builds, in one process: node --expose-gc bench/keyed-ab.mjs <rounds> <dir>...
// Each <dir> is a copy of the package with its `dist/` built and this `bench/` folder (so its
// `sluice` is its own build). Per round, each build's Sluice job (map, filter, mapToPair,
// reduceByKey), then the hand loop, each after a full GC; then the medians and the ratios.
// SCALE (default 1) from the environment; SLUICE_BENCH_CLOCK=cpu for CPU time.
import { loadavg } from 'node:os';
import { keyedPipeline } from './keyed.mjs';

const [rounds = '3', ...dirs] = process.argv.slice(2);
if (dirs.length === 0) throw new Error('usage: node --expose-gc bench/keyed-ab.mjs <rounds> <dir>...');
const libs = await Promise.all(dirs.map((d) => import(`${d}/bench/lib.mjs`)));
const cores = await Promise.all(dirs.map((d) => import(`${d}/dist/core/index.js`)));
const lib = libs[libs.length - 1];
const scale = Number(process.env.SCALE ?? 1);
const keys = lib.keyNames(Math.round(100_000 * scale));
const batchSize = Math.round(500_000 * scale);
const numBatches = 20;
const batch = (/** @type {number} */ b) => lib.makeBatch({ b, size: batchSize, keys, eventsPerSecond: 100_000 });
/** @type {Record<string, number[]>} */
const times = {};
const note = (/** @type {string} */ name, /** @type {number} */ ms, /** @type {number} */ sum) => {
  (times[name] ??= []).push(ms);
  console.log(`${name}: ${ms.toFixed(0)} ms, sum ${sum}`);
};
for (let r = 0; r < Number(rounds); r++) {
  for (let i = 0; i < dirs.length; i++) {
    lib.gc();
    const { map, filter, mapToPair, reduceByKey } = cores[i];
    let sum = 0;
    const { ms } = await libs[i].runSluice({
      numBatches,
      batch,
      build: keyedPipeline({ map, filter, mapToPair, reduceByKey }),
      onOutput: (/** @type {[string, number][]} */ records) => {
        for (const [, v] of records) sum += v;
      },
    });
    note(`sluice ${dirs[i]}`, ms, sum);
  }
  lib.gc();
  let sum = 0;
  const ms = lib.timeBatches({
    numBatches,
    batch,
    step: (/** @type {number} */ _b, /** @type {{ key: string, value: number }[]} */ evs) => {
      /** @type {Map<string, number>} */
      const sums = new Map();
      for (let i = 0; i < evs.length; i++) {
        const e = /** @type {{ key: string, value: number }} */ (evs[i]);
        const v = e.value * 2;
        if (v % 3 !== 0) sums.set(e.key, (sums.get(e.key) ?? 0) + v);
      }
      for (const v of sums.values()) sum += v;
    },
  });
  note('hand', ms, sum);
}
const median = (/** @type {number[]} */ runs) => /** @type {number} */ ([...runs].sort((a, b) => a - b)[Math.floor(runs.length / 2)]);
const hand = median(times.hand ?? []);
for (const [name, runs] of Object.entries(times)) {
  const m = median(runs);
  const ratio = name.startsWith('sluice') ? `; ${(hand / m).toFixed(2)}x the hand loop` : '';
  console.log(`${name}: median ${m.toFixed(0)} ms of ${runs.map((t) => t.toFixed(0)).join(', ')}${ratio}`);
}
console.log(`load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
