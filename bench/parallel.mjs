// Scenario 8: parallel execution. A CPU-bound keyed job (a user function of about 2 µs per record
// in mapToPair, then reduceByKey and updateStateByKey; bench/parallel-job.mjs) run by runJob on
// 0 (inline), 1, 2 and 4 worker threads; then skew (one partition with 30% of the work against
// the same work spread evenly), a straggler (one worker 5x slower) and faults (a worker that ends
// itself in every 10th batch), and keyed state locality on and off (state rows sent a batch).
// Every variant's outputs are checked against the inline run's.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { URL } from 'node:url';
import { createJobRun } from '../dist/core/internal.js';
import { row } from './lib.mjs';

const JOB = new URL('./parallel-job.mjs', import.meta.url);
let instances = 0;

/** Iterations of the job's loop that take about 2 µs here (measured now: the machine is shared). */
function calibrate() {
  const n = 2_000_000;
  let h = 1;
  const start = performance.now();
  for (let k = 0; k < n; k++) h = Math.imul(h ^ (h >>> 13), 0x5bd1e995) + k;
  const nsPerIteration = ((performance.now() - start) * 1e6) / n;
  return Math.max(1, Math.round(2000 / nsPerIteration + (h & 0)));
}

/**
 * Runs the job to completion on `workers` threads with the query `params`.
 *
 * @returns {Promise<{ ms: number, checksums: unknown[], tasks: number, retried: number, speculated: number, batchMs: number[], stateRowsShipped: number, stateRowsCached: number }>}
 */
async function run(workers, params, options = {}) {
  const url = new URL(JOB);
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, String(v));
  url.searchParams.set('instance', String(instances++));
  const ctx = await createJobRun(url, { workers, ...options });
  let tasks = 0;
  let retried = 0;
  let speculated = 0;
  let stateRowsShipped = 0;
  let stateRowsCached = 0;
  /** @type {number[]} */
  const batchMs = [];
  ctx.addListener((event) => {
    if (event.type !== 'batchCompleted') return;
    batchMs.push(event.progress.processingTimeMs);
    tasks += event.progress.tasks?.tasks ?? 0;
    retried += event.progress.tasks?.retried ?? 0;
    speculated += event.progress.tasks?.speculated ?? 0;
    for (const stage of event.progress.tasks?.stages ?? []) {
      stateRowsShipped += stage.stateRowsShipped ?? 0;
      stateRowsCached += stage.stateRowsCached ?? 0;
    }
  });
  const start = performance.now();
  await ctx.runToCompletion({ maxRecordsPerBatch: Number(params.records) });
  const ms = performance.now() - start;
  const { checksums } = await import(url.href);
  return { ms, checksums, tasks, retried, speculated, batchMs, stateRowsShipped, stateRowsCached };
}

const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

/** @param {{ scale: number }} o @returns {Promise<import('./lib.mjs').BenchRow[]>} */
export async function parallelScenario({ scale }) {
  const S = '8 parallel: 2 µs/record mapToPair+reduceByKey+updateStateByKey';
  const records = Math.max(1000, Math.round(100_000 * scale));
  const batches = 10;
  const parts = 8;
  const spin = calibrate();
  const base = { records, batches, spin, parts };
  const events = records * batches;
  const rows = [];

  const inline = await run(0, base);
  rows.push(row(S, 'inline (workers: 0)', events, inline.ms, { note: `${batches} batches of ${records}, ${parts} partitions, ${spin} iterations ≈ 2 µs; 2 cores shared with other processes` }));
  for (const workers of [1, 2, 4]) {
    const r = await run(workers, base);
    const check = same(r.checksums, inline.checksums) ? 'outputs equal inline' : 'OUTPUTS DIFFER';
    rows.push(row(S, `workers: ${workers}`, events, r.ms, { baseline: 'inline', ratio: inline.ms / r.ms, ...(workers === 2 ? { target: '>= 1.7' } : {}), note: `${r.tasks} tasks; ${check}` }));
  }

  // Keyed state locality: the state rows sent to the workers per batch, with the key groups
  // staying on their workers (the default) and with every state task sent whole.
  const local = await run(2, base);
  const whole = await run(2, base, { locality: false });
  const perBatch = (r) => `${(r.stateRowsShipped / batches).toFixed(0)} state rows sent a batch (${(r.stateRowsCached / batches).toFixed(0)} cached)`;
  rows.push(row(S, 'state locality on, 2 workers', events, local.ms, { note: `${perBatch(local)}; ${same(local.checksums, inline.checksums) ? 'outputs equal inline' : 'OUTPUTS DIFFER'}` }));
  rows.push(row(S, 'state locality off, 2 workers', events, whole.ms, { baseline: 'locality on', ratio: local.ms / whole.ms, note: `${perBatch(whole)}; ${same(whole.checksums, inline.checksums) ? 'outputs equal inline' : 'OUTPUTS DIFFER'}` }));

  // Per-task overhead: the same job with no work per record, one worker against inline.
  const idle = { ...base, spin: 0 };
  const idleInline = await run(0, idle);
  const idleOne = await run(1, idle);
  rows.push(row(S, 'per-task overhead (no work, 1 worker)', events, idleOne.ms, { note: `${((idleOne.ms - idleInline.ms) / idleOne.tasks).toFixed(3)} ms per task over inline (${idleInline.ms.toFixed(0)} ms inline, ${idleOne.tasks} tasks, records copied both ways)` }));

  const even = await run(2, { ...base, skew: 0 });
  const skewed = await run(2, { ...base, skew: 1 });
  const skewedLast = await run(2, { ...base, skew: 1, skewAt: 'last' });
  const skewRatio = skewed.ms / even.ms;
  rows.push(row(S, 'skew: 30% of the work in 1 of 8 partitions (the first), 2 workers', events, skewed.ms, { baseline: 'the same work even', ratio: skewRatio, target: '<= 1.3', met: skewRatio <= 1.3, note: `even ${even.ms.toFixed(0)} ms; ${same(skewed.checksums, even.checksums) ? 'outputs equal' : 'OUTPUTS DIFFER'}` }));
  // The heavy partition last: the worst order for a first-come queue. Its records are as many as
  // the others' (the work per record differs), so ordering by size (PoolTask.size) cannot see it.
  rows.push(row(S, 'skew: the heavy partition last, 2 workers', events, skewedLast.ms, { baseline: 'the same work even', ratio: skewedLast.ms / even.ms, note: same(skewedLast.checksums, even.checksums) ? 'outputs equal' : 'OUTPUTS DIFFER' }));

  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-parallel-'));
  try {
    mkdirSync(join(dir, 'on'));
    mkdirSync(join(dir, 'off'));
    mkdirSync(join(dir, 'unpaced'));
    mkdirSync(join(dir, 'three'));
    const twoEven = await run(2, base);
    const slow = await run(2, { ...base, slow: join(dir, 'on') }, {});
    const slowUnpaced = await run(2, { ...base, slow: join(dir, 'unpaced') }, { speculation: { slowWorker: Infinity } });
    const slowOff = await run(2, { ...base, slow: join(dir, 'off') }, { speculation: false });
    const slowThree = await run(3, { ...base, slow: join(dir, 'three') }, {});
    const slowRatio = slow.ms / twoEven.ms;
    // The best a 2-worker pool can do when one worker runs at a fifth of the speed: capacity 1.2
    // workers against 2, 1.67x (bench/README.md, S8 straggler analysis).
    rows.push(row(S, 'straggler: 1 of 2 workers 5x slower, speculation on', events, slow.ms, { baseline: 'no straggler', ratio: slowRatio, target: '<= 1.5 (floor 1.67)', met: slowRatio <= 1.5, note: `${slow.speculated} speculative copies; ${same(slow.checksums, inline.checksums) ? 'outputs equal inline' : 'OUTPUTS DIFFER'}` }));
    rows.push(row(S, 'straggler: same, speculation without the slow-worker rule', events, slowUnpaced.ms, { baseline: 'no straggler', ratio: slowUnpaced.ms / twoEven.ms, note: `speculation: { slowWorker: Infinity }; ${slowUnpaced.speculated} speculative copies` }));
    rows.push(row(S, 'straggler: 1 of 2 workers 5x slower, speculation off', events, slowOff.ms, { baseline: 'no straggler', ratio: slowOff.ms / twoEven.ms, note: same(slowOff.checksums, inline.checksums) ? 'outputs equal inline' : 'OUTPUTS DIFFER' }));
    rows.push(row(S, 'straggler: 1 of 3 workers 5x slower (on 2 cores), speculation on', events, slowThree.ms, { baseline: 'no straggler, 2 workers', ratio: slowThree.ms / twoEven.ms, note: same(slowThree.checksums, inline.checksums) ? 'outputs equal inline' : 'OUTPUTS DIFFER' }));

    const faultBase = { ...base, batches: 20 };
    const clean = await run(2, faultBase);
    const faulty = await run(2, { ...faultBase, fault: dir });
    const added = (faulty.ms - clean.ms) / 2;
    rows.push(row(S, 'fault: a worker ends itself in every 10th batch, 2 workers', records * 20, faulty.ms, { note: `${faulty.retried} tasks retried; +${added.toFixed(0)} ms per faulted batch (${clean.ms.toFixed(0)} ms without faults); ${same(faulty.checksums, clean.checksums) ? 'outputs equal' : 'OUTPUTS DIFFER'}` }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}
