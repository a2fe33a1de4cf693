// Scenario 2 across builds, in one process: node --expose-gc bench/tumbling-ab.mjs <rounds> <dir>...
// Each <dir> is a copy of the package with its `dist/` built and this `bench/` folder (so its
// `sluice` is its own build). Per round, each build's Sluice job, then the hand loop and the RxJS
// peer (from the last dir's bench), each after a full GC; then the medians and the ratios.
// SCALE (default 1) from the environment.
import { loadavg } from 'node:os';

const [rounds = '3', ...dirs] = process.argv.slice(2);
if (dirs.length === 0) throw new Error('usage: node --expose-gc bench/tumbling-ab.mjs <rounds> <dir>...');
const last = /** @type {string} */ (dirs[dirs.length - 1]);
const benches = await Promise.all(dirs.map((d) => import(`${d}/bench/windows.mjs`)));
const windows = await Promise.all(dirs.map((d) => import(`${d}/dist/windows/index.js`)));
const lib = await import(`${last}/bench/lib.mjs`);
const scale = Number(process.env.SCALE ?? 1);
const keys = lib.keyNames(Math.round(100_000 * scale));
const batchSize = Math.round(500_000 * scale);
const numBatches = 20;
const eventsPerSecond = Math.round(100_000 * scale);
const batch = (/** @type {number} */ b) => lib.makeBatch({ b, size: batchSize, keys, eventsPerSecond, jitterMs: 500 });
/** @type {Record<string, number[]>} */
const times = {};
const note = (/** @type {string} */ name, /** @type {number} */ ms, /** @type {number} */ results) => {
  (times[name] ??= []).push(ms);
  console.log(`${name}: ${ms.toFixed(0)} ms, ${results} results`);
};
for (let r = 0; r < Number(rounds); r++) {
  for (let i = 0; i < dirs.length; i++) {
    lib.gc();
    const { tumbling, agg } = windows[i];
    const run = await benches[i].windowJob({ numBatches, batch, delay: 1000, assigner: tumbling(1000), agg: agg.count() });
    note(`sluice ${dirs[i]}`, run.ms, run.outputs);
  }
  const bench = benches[benches.length - 1];
  lib.gc();
  const hand = bench.timeHandWindows({ numBatches, batch, size: 1000, delay: 1000, windowsOf: (/** @type {number} */ t) => [Math.floor(t / 1000) * 1000] });
  note('hand', hand.ms, hand.emitted);
  lib.gc();
  const rx = bench.timeRxTumbling({ numBatches, batch, size: 1000, delay: 1000 });
  note('rxjs', rx.ms, rx.emitted);
}
const median = (/** @type {number[]} */ runs) => /** @type {number} */ ([...runs].sort((a, b) => a - b)[Math.floor(runs.length / 2)]);
const hand = median(times.hand ?? []);
const rx = median(times.rxjs ?? []);
for (const [name, runs] of Object.entries(times)) {
  const m = median(runs);
  const ratios = name.startsWith('sluice') ? `; ${(hand / m).toFixed(2)}x the hand loop, ${(rx / m).toFixed(2)}x RxJS` : '';
  console.log(`${name}: median ${m.toFixed(0)} ms of ${runs.map((t) => t.toFixed(0)).join(', ')}${ratios}`);
}
console.log(`load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
