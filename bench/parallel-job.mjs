// The job module of scenario 8 (bench/parallel.mjs): a CPU-bound keyed job, built from the
// parameters in its URL's query so that the driver and every worker thread build the same graph.
//   records, batches: the input (record i of batch b is b * 1e7 + i); spin: iterations of the
//   user function's loop per unit of work (calibrated to about 2 µs by the bench); parts: input
//   partitions; skew=1: the first partition's records weigh so that it holds 30% of the work
//   (skew=0: the same work spread evenly); skewAt=last: the last partition is the heavy one;
//   keys: the distinct keys (default 1000);
//   slow=<dir>: the first worker thread to claim <dir>/slow runs 5x slower; fault=<dir>: in every
//   10th batch, the worker that first claims <dir>/fault-<batch> ends itself (process.exit).

import { openSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { URL } from 'node:url';
import { isMainThread } from 'node:worker_threads';
import { defineJob, foreachBatch, mapToPair, reduceByKey } from 'sluice';
import { updateStateByKey } from 'sluice/state';

const q = new URL(import.meta.url).searchParams;
const records = Number(q.get('records') ?? 10_000);
const batches = Number(q.get('batches') ?? 10);
const spins = Number(q.get('spin') ?? 150);
const parts = Number(q.get('parts') ?? 8);
const keys = Number(q.get('keys') ?? 1000);
const skew = q.get('skew') === '1';
const heavy = q.get('skewAt') === 'last' ? parts - 1 : 0;
const slowDir = q.get('slow');
const faultDir = q.get('fault');

/** Whether this thread is the first to claim `path` (an exclusive create). */
function claim(path) {
  try {
    closeSync(openSync(path, 'wx'));
    return true;
  } catch {
    return false;
  }
}

const slowFactor = slowDir !== null && !isMainThread && claim(join(slowDir, 'slow')) ? 5 : 1;

/** About 2 µs of work per unit. */
function spin(x, units) {
  let h = x | 0;
  const n = Math.round(spins * units * slowFactor);
  for (let k = 0; k < n; k++) h = Math.imul(h ^ (h >>> 13), 0x5bd1e995) + k;
  return h >>> 0;
}

// With skew=1, the heavy partition (the first, or the last: a partition's records are a
// contiguous 1/parts of the batch) holds 30% of the work: its records weigh w0, the others 1. With skew=0 every record weighs the mean weight:
// the same total work, evenly spread.
const perPart = Math.ceil(records / parts);
const w0 = (0.3 / 0.7) * (parts - 1);
const mean = w0 / parts + 1 - 1 / parts;
const weighted = q.get('skew') !== null;
const weightOf = (i) => (!weighted ? 1 : skew ? (Math.floor(i / perPart) === heavy ? w0 : 1) : mean);

/** What the output saw: a checksum of each batch's state. */
export const checksums = [];

export default defineJob({ batchInterval: '1s', defaultParallelism: parts }, (ctx) => {
  const input = ctx.queueStream(
    Array.from({ length: batches }, (_, b) => Array.from({ length: records }, (_, i) => b * 1e7 + i)),
    { name: 'numbers', numPartitions: parts },
  );
  input
    .pipe(
      mapToPair((x) => {
        const i = x % 1e7;
        const b = (x - i) / 1e7;
        if (faultDir !== null && !isMainThread && b % 10 === 9 && i === Math.floor(records / 2) && claim(join(faultDir, `fault-${b}`))) process.exit(1);
        // The key does not depend on the work (never 2^32 or more), so every variant gives the same outputs.
        return [(i + (spin(x, weightOf(i)) >= 4294967296 ? 1 : 0)) % keys, 1];
      }),
      reduceByKey((a, b) => a + b),
      updateStateByKey((counts, total) => (total ?? 0) + counts.reduce((a, b) => a + b, 0), { name: 'totals' }),
      foreachBatch((pairs, { batchId }) => {
        let sum = 0;
        for (const [k, v] of pairs) sum = (sum * 31 + k * 7 + v) % 1_000_000_007;
        checksums.push([batchId, pairs.length, sum]);
      }),
    );
});
