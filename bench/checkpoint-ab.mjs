// Scenario 4 across builds, in one process: node --expose-gc bench/checkpoint-ab.mjs <rounds> <dir>...
// Each <dir> is a copy of the package with its `dist/` built and this `bench/` folder (so its
// `sluice` is its own build; a `node_modules` link beside them). Per round, each build's job in
// memory, checkpointed every batch with the sequential commit and with the pipelined one (each
// after a full GC, in fresh databases), then the raw classic-level write of the same rows (from
// the last dir's bench); then the medians and the ratios. SCALE (default 1) from the environment;
// SLUICE_BENCH_CLOCK=cpu times CPU time (every thread of the process) instead of wall time.
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';

const [rounds = '3', ...dirs] = process.argv.slice(2);
if (dirs.length === 0) throw new Error('usage: node --expose-gc bench/checkpoint-ab.mjs <rounds> <dir>...');
const last = /** @type {string} */ (dirs[dirs.length - 1]);
const benches = await Promise.all(dirs.map((d) => import(`${d}/bench/checkpoint-cost.mjs`)));
const lib = await import(`${last}/bench/lib.mjs`);
const scale = Number(process.env.SCALE ?? 1);
const keys = lib.keyNames(Math.round(1_000_000 * scale));
const batchSize = Math.round(500_000 * scale);
const numBatches = 6;
const batch = (/** @type {number} */ b) => lib.makeBatch({ b, size: batchSize, keys, eventsPerSecond: 100_000 });
/** @type {Record<string, number[]>} */
const times = {};
/** @type {Record<string, number[]>} */
const commits = {};
const root = mkdtempSync(join(tmpdir(), 'sluice-bench-ckpt-ab-'));
let rows = 0;
let n = 0;
try {
  for (let r = 0; r < Number(rounds); r++) {
    for (let i = 0; i < dirs.length; i++) {
      for (const variant of /** @type {const} */ (['memory', 'sequential', 'pipelined'])) {
        lib.gc();
        const name = `${variant} ${dirs[i]}`;
        const checkpoint = variant === 'memory' ? {} : { checkpoint: join(root, `c${n++}`), pipelinedCommit: variant === 'pipelined' };
        const run = await benches[i].runJob({ numBatches, batch, ...checkpoint });
        (times[name] ??= []).push(run.ms);
        if (variant !== 'memory') (commits[name] ??= []).push(run.commitMs);
        console.log(`${name}: ${run.ms.toFixed(0)} ms${variant === 'memory' ? '' : `, commit ${run.commitMs.toFixed(0)} ms, write ${run.writeMs.toFixed(0)} ms`}; ${run.summary.keys} keys`);
      }
    }
    lib.gc();
    const raw = await benches[benches.length - 1].rawWrite({ numBatches, batch, dir: join(root, `raw${r}`) });
    rows = raw.entries;
    (times.raw ??= []).push(raw.rawMs);
    console.log(`raw: ${raw.rawMs.toFixed(0)} ms for ${raw.entries} rows`);
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}
const median = (/** @type {number[]} */ runs) => /** @type {number} */ ([...runs].sort((a, b) => a - b)[Math.floor(runs.length / 2)]);
const raw = median(times.raw ?? []);
for (const dir of dirs) {
  const memory = median(times[`memory ${dir}`] ?? []);
  for (const variant of ['sequential', 'pipelined']) {
    const name = `${variant} ${dir}`;
    const ms = median(times[name] ?? []);
    const commit = median(commits[name] ?? []);
    console.log(`${name}: median ${ms.toFixed(0)} ms of ${(times[name] ?? []).map((t) => t.toFixed(0)).join(', ')}; ${(memory / ms).toFixed(2)}x memory (${memory.toFixed(0)} ms); commit ${commit.toFixed(0)} ms, ${(raw / commit).toFixed(2)}x raw (${raw.toFixed(0)} ms, ${rows} rows)`);
  }
}
console.log(`clock ${process.env.SLUICE_BENCH_CLOCK === 'cpu' ? 'cpu (all threads)' : 'wall'}; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
