// Scenario 4: the cost of checkpoints. mapWithState over 1 million keys with a LevelDB checkpoint
// every batch against the same job in memory only; and the engine's state commit rate against a
// raw LevelDB batch write of the same entries (the same encoded bytes) in the same run.
import { Buffer } from 'node:buffer';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Level } from 'level'; // level's Level is classic-level's ClassicLevel, nothing around it
import { foreachBatch, ManualClock, mapToPair, StreamingContext } from 'sluice';
import { levelCheckpoint } from 'sluice/checkpoint';
import { mapWithState, queryableState, stateSpec } from 'sluice/state';
// The checkpointer's database, to count the operations of its writes: internal, so from the build.
import { checkpointerOf } from '../dist/checkpoint/internal.js';
import { encodeKey, encodeValue } from 'sluice/extend';
import { countBatchOperations, gc, keyNames, makeBatch, now, row, timeCommits } from './lib.mjs';

/** @typedef {import('./lib.mjs').BenchEvent} BenchEvent */
/** @typedef {{ count: number, sum: number }} Totals */
/** @typedef {{ keys: number, count: number, sum: number }} Summary */

const OPERATOR = 'counts';
/** The key of the one record of the batch that ends a run (not counted in the summary). */
const END_KEY = 'end-of-run';
const INTERVAL = 1000;

/** @returns {import('sluice/state').StateSpec<string, number, Totals, undefined>} a running count and sum per key. */
function countsSpec() {
  return stateSpec((/** @type {string} */ _key, /** @type {number | undefined} */ value, /** @type {import('sluice/state').State<Totals>} */ state) => {
    const old = state.getOption() ?? { count: 0, sum: 0 };
    state.update({ count: old.count + 1, sum: old.sum + (value ?? 0) });
    return undefined;
  }).name(OPERATOR);
}

/**
 * Runs the job (mapWithState keeping `{ count, sum }` per key) over `numBatches` batches back to
 * back, as a job that is behind runs them: the first batch is queued, then a graceful stop drains
 * the queue, each batch's output queueing the next one's input (its generation untimed). Timed
 * from the stop to the start of the end batch's output, which waits for the last data batch's
 * commit. With
 * `checkpoint`, the context checkpoints to LevelDB every batch (its state in the checkpoint's
 * store), its commits pipelined with `pipelinedCommit`, and the checkpointer's commit
 * is timed: all of it (`commitMs`: from its first participant's prepare, through the encoding and
 * the atomic write, to its last participant's `committed`) and its LevelDB write alone
 * (`writeMs`). A batch of one record (key END_KEY) ends the run: its output reads the final state
 * (untimed) through queryable state, which is the last data batch's committed state; the last data
 * batch's progress reports that state's rows. `operations` counts what the commits' atomic writes held (state rows, meta and
 * commit entries, log purges).
 *
 * @param {{ numBatches: number, batch: (b: number) => BenchEvent[], checkpoint?: string, pipelinedCommit?: boolean }} o
 * @returns {Promise<{ ms: number, commitMs: number, writeMs: number, commits: number, operations: number, summary: Summary, stateRows: number | undefined, stateBytes: number | undefined }>}
 */
export async function runJob({ numBatches, batch, checkpoint, pipelinedCommit = false }) {
  const clock = new ManualClock();
  const ctx = new StreamingContext({ batchInterval: INTERVAL, clock, ...(checkpoint === undefined ? {} : { checkpoint: levelCheckpoint(checkpoint), pipelinedCommit }) });
  /** @type {BenchEvent[][]} */
  const queue = [];
  /** @type {Summary} */
  const summary = { keys: 0, count: 0, sum: 0 };
  let untimed = 0;
  let ended = 0;
  let commitMsAtEnd = 0;
  ctx
    .queueStream(queue, { name: 'bench-input' })
    .pipe(
      mapToPair((/** @type {BenchEvent} */ e) => [e.key, e.value]),
      mapWithState(countsSpec()),
      foreachBatch(async (_records, { batchId }) => {
        const t0 = now();
        if (batchId + 1 < numBatches) queue.push(batch(batchId + 1));
        else if (batchId + 1 === numBatches) queue.push([{ key: END_KEY, value: 0, time: 0 }]); // the end batch
        else {
          // Its output starts once the last data batch has committed: the timed part ends here.
          ended = t0;
          commitMsAtEnd = timed?.ms ?? 0;
          for await (const [key, totals] of queryableState(ctx, OPERATOR).entries()) {
            if (key === END_KEY) continue;
            const t = /** @type {Totals} */ (totals);
            summary.keys++;
            summary.count += t.count;
            summary.sum += t.sum;
          }
        }
        if (ended === 0) untimed += now() - t0;
      }),
    );
  const timed = checkpoint === undefined ? undefined : timeCommits(ctx);
  /** @type {import('sluice').OperatorProgress | undefined} */
  let lastReport;
  ctx.addListener((event) => {
    // The last data batch's figures: the state the raw write is compared with.
    if (event.type === 'batchCompleted' && event.progress.batchId === numBatches - 1) lastReport = event.progress.operators.find((o) => o.operator === OPERATOR);
  });
  /** @type {unknown} */
  let failure;
  ctx.awaitTermination().catch((/** @type {unknown} */ error) => {
    failure = error;
  });
  queue.push(batch(0));
  await ctx.start();
  // What the atomic writes held, from the first batch on.
  const counted = checkpoint === undefined ? undefined : countBatchOperations(checkpointerOf(ctx).db);
  const t0 = now();
  // No batch time has come on the ManualClock: the graceful stop runs every batch, back to back.
  await ctx.stop({ graceful: true });
  const ms = ended - t0 - untimed;
  if (failure !== undefined) throw failure instanceof Error ? failure : new Error(String(failure));
  const timedCommits = { commitMs: commitMsAtEnd, writeMs: timed?.writeMs ?? 0, commits: timed?.commits ?? 0, operations: counted?.operations ?? 0 };
  return { ms, ...timedCommits, summary, stateRows: lastReport?.stateRows, stateBytes: lastReport?.stateBytes };
}

/**
 * The key prefix of the state rows of operator `name` in the checkpoint's database: the sublevel
 * `state` → `name` (abstract-level's `!state!!name!`; `name` is plain ASCII here).
 *
 * @param {string} name
 */
function rowsPrefix(name) {
  return `!state!!${name}!`;
}

/**
 * The raw write: the same rows the engine commits, batch by batch, with the same bytes (the key's
 * sublevel prefix, 'S' and encodeKey; encodeValue of the [state, lastRecordTime, lastWriteTime,
 * watermark] entry), built before the clock starts, one `db.batch` per batch into a fresh
 * database at `dir`.
 *
 * @param {{ numBatches: number, batch: (b: number) => BenchEvent[], dir: string }} o
 * @returns {Promise<{ model: Map<string, Totals>, modelBytes: number, entries: number, rawMs: number }>}
 */
export async function rawWrite({ numBatches, batch, dir }) {
  /** @type {Map<string, Totals>} */
  const model = new Map();
  const prefix = rowsPrefix(OPERATOR);
  /** @type {Level<Buffer, Uint8Array>} */
  const db = new Level(dir, { keyEncoding: 'buffer', valueEncoding: 'view' });
  await db.open();
  let rawMs = 0;
  let entries = 0;
  let modelBytes = 0;
  /** @type {Map<string, number>} */
  const rowBytes = new Map(); // encoded size of each key's latest row, as the store's meta counts it
  for (let b = 0; b < numBatches; b++) {
    /** @type {Set<string>} */
    const touched = new Set();
    for (const e of batch(b)) {
      const old = model.get(e.key) ?? { count: 0, sum: 0 };
      model.set(e.key, { count: old.count + 1, sum: old.sum + e.value });
      touched.add(e.key);
    }
    const batchTime = (b + 1) * INTERVAL;
    /** @type {{ type: 'put', key: Buffer, value: Uint8Array }[]} */
    const operations = [];
    for (const key of touched) {
      const storeKey = `S${encodeKey(key)}`;
      const value = encodeValue([model.get(key), batchTime, batchTime, null]);
      operations.push({ type: 'put', key: Buffer.from(prefix + storeKey, 'latin1'), value });
      modelBytes += storeKey.length + value.byteLength - (rowBytes.get(key) ?? 0);
      rowBytes.set(key, storeKey.length + value.byteLength);
    }
    entries += operations.length;
    const t0 = now();
    await db.batch(operations);
    rawMs += now() - t0;
  }
  await db.close();
  return { model, modelBytes, entries, rawMs };
}

/** @param {{ scale: number }} o @returns {Promise<import('./lib.mjs').BenchRow[]>} */
export async function checkpointScenario({ scale }) {
  const S = '4 checkpoint cost: mapWithState';
  const keys = keyNames(Math.round(1_000_000 * scale));
  const batchSize = Math.round(500_000 * scale);
  const numBatches = 6; // 3 events a key: about 95% of the keys get state
  const events = numBatches * batchSize;
  const batch = (/** @type {number} */ b) => makeBatch({ b, size: batchSize, keys, eventsPerSecond: 100_000 });
  const root = mkdtempSync(join(tmpdir(), 'sluice-bench-ckpt-'));
  try {
    gc(); // each variant starts without the garbage of the one before
    const checkpointed = await runJob({ numBatches, batch, checkpoint: join(root, 'checkpoint') });
    gc();
    const memory = await runJob({ numBatches, batch });
    gc();
    const pipelined = await runJob({ numBatches, batch, checkpoint: join(root, 'checkpoint-pipelined'), pipelinedCommit: true });
    gc();

    const { model, modelBytes, entries, rawMs } = await rawWrite({ numBatches, batch, dir: join(root, 'raw') });

    /** @type {Summary} */
    const expected = { keys: model.size, count: 0, sum: 0 };
    for (const t of model.values()) {
      expected.count += t.count;
      expected.sum += t.sum;
    }
    const same = (/** @type {Summary} */ s) => s.keys === expected.keys && s.count === expected.count && s.sum === expected.sum;
    const show = (/** @type {Summary} */ s) => `${s.keys} keys, count ${s.count}, sum ${s.sum}`;
    const bytesAgree = checkpointed.stateRows === model.size && checkpointed.stateBytes === modelBytes;
    const checkOf = (/** @type {Summary} */ s) => (same(s) ? `final state agrees with a plain Map (${show(s)})` : `final state DIFFERS: ${show(s)}, expected ${show(expected)}`);
    const rate = (/** @type {number} */ n, /** @type {number} */ ms) => n / ms;
    const commitRate = rate(entries, checkpointed.commitMs);
    const writeRate = rate(entries, checkpointed.writeMs);
    const rawRate = rate(entries, rawMs);
    return [
      row(S, 'sluice, LevelDB checkpoint every batch', events, checkpointed.ms, {
        note: `${numBatches} batches of ${batchSize} over ${keys.length} keys, state in the checkpoint's LevelDB (default cache: a byte budget of a quarter of the heap limit); ${checkOf(checkpointed.summary)}`,
      }),
      row(S, 'sluice, memory state, no checkpoint', events, memory.ms, {
        baseline: 'memory',
        ratio: rate(events, checkpointed.ms) / rate(events, memory.ms),
        target: '>= 0.6',
        note: `${checkOf(memory.summary)}; batches back to back (a job that is behind), each committed before the next starts (the default)`,
      }),
      row(S, 'sluice, LevelDB checkpoint every batch, pipelinedCommit: true', events, pipelined.ms, {
        ratio: rate(events, pipelined.ms) / rate(events, memory.ms),
        note: `batch N's atomic write overlapping batch N+1's compute; ratio to memory state; ${checkOf(pipelined.summary)}; commit (prepare to the last committed, the next batch's compute included) ${Math.round(rate(entries, pipelined.commitMs) * 1000)} rows/s (${(rate(entries, pipelined.commitMs) / rate(entries, rawMs)).toFixed(2)}x the raw write), its LevelDB write alone ${pipelined.writeMs.toFixed(1)} ms`,
      }),
      row(S, 'sluice state commit, rows', entries, checkpointed.commitMs, {
        note:
          `${entries} state rows in ${checkpointed.commits} commits, timed around the checkpointer's commit (encoding the staged values, the atomic write ` +
          `with the commit record, the cache update); its LevelDB write alone: ${checkpointed.writeMs.toFixed(1)} ms, ${Math.round(writeRate * 1000)} rows/s, ` +
          `${(writeRate / rawRate).toFixed(2)}x the raw write; the atomic writes held ${checkpointed.operations} operations for these ${entries} rows; ` +
          `committed rows and bytes ${bytesAgree ? 'agree' : 'DIFFER'} with the raw write's ` +
          `(${checkpointed.stateRows} rows, ${checkpointed.stateBytes} B; raw ${model.size} rows, ${modelBytes} B)`,
      }),
      row(S, 'classic-level db.batch, same bytes', entries, rawMs, {
        baseline: 'classic-level batch',
        ratio: commitRate / rawRate,
        target: '>= 0.7',
        note: `the same ${entries} rows (same keys with the sublevel prefix, same encoded values), one batch() per engine commit, into a fresh database`,
      }),
    ];
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
