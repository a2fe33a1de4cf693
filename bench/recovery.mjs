// Scenario 5: recovery. A restart on a checkpoint holding 1 million keys of mapWithState state,
// timed until the first new batch has completed, against a raw full scan of the same LevelDB.
import { Buffer } from 'node:buffer';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Level } from 'level'; // level's Level is classic-level's ClassicLevel, nothing around it
import { foreachBatch, ManualClock, mapToPair, StreamingContext } from 'sluice';
import { getOrCreate } from 'sluice/checkpoint';
import { mapWithState, queryableState, stateSpec } from 'sluice/state';
// The checkpointer's database, to count the operations of its writes: internal, so from the build.
import { checkpointerOf } from '../dist/checkpoint/internal.js';
import { countBatchOperations, gc, keyNames, makeBatch, now, row, timeCommits } from './lib.mjs';

/** @typedef {import('./lib.mjs').BenchEvent} BenchEvent */
/** @typedef {{ key: string, value: number }} Input */
/** @typedef {{ count: number, sum: number }} Totals */

const OPERATOR = 'counts';
const INTERVAL = 1000;
const SCAN_BATCH = 1000;

/**
 * The job, the same on both runs: a replayable rate source (record `i` < `numKeys` is key `k{i}`
 * with value `i % 100`, so the first `numKeys` records give every key state once; the records
 * after are `extra`), mapWithState keeping `{ count, sum }` per key, checkpointed every batch.
 *
 * @param {{ checkpoint: import('sluice').CheckpointStorage, clock: ManualClock, keys: string[], extra: BenchEvent[], perBatch: number, completed: import('sluice').BatchProgress[] }} o
 */
function buildJob({ checkpoint, clock, keys, extra, perBatch, completed }) {
  const numKeys = keys.length;
  const total = numKeys + extra.length;
  const ctx = new StreamingContext({ batchInterval: INTERVAL, clock, checkpoint });
  const spec = stateSpec((/** @type {string} */ _key, /** @type {number | undefined} */ value, /** @type {import('sluice/state').State<Totals>} */ state) => {
    const old = state.getOption() ?? { count: 0, sum: 0 };
    state.update({ count: old.count + 1, sum: old.sum + (value ?? 0) });
    return undefined;
  }).name(OPERATOR);
  ctx
    .rateStream({
      // Everything exists from the first batch on; maxRecordsPerBatch cuts it.
      rowsPerSecond: total,
      startTime: 0,
      backfill: true,
      totalRows: total,
      maxRecordsPerBatch: perBatch,
      name: 'bench-input',
      generate: (/** @type {number} */ i) => {
        if (i < numKeys) return { key: /** @type {string} */ (keys[i]), value: i % 100 };
        const e = /** @type {BenchEvent} */ (extra[i - numKeys]);
        return { key: e.key, value: e.value };
      },
    })
    .pipe(mapToPair((/** @type {Input} */ e) => [e.key, e.value]), mapWithState(spec), foreachBatch(() => undefined));
  ctx.addListener((event) => {
    if (event.type === 'batchCompleted') completed.push(event.progress);
  });
  return ctx;
}

/** @param {StreamingContext} ctx @returns {Promise<unknown>} what stopped it, if it failed. */
function failureOf(ctx) {
  return ctx.awaitTermination().then(
    () => undefined,
    (/** @type {unknown} */ error) => error,
  );
}

/**
 * Opens the database at `dir` with classic-level and reads every entry, raw (no decoding), in
 * batches of {@link SCAN_BATCH}.
 *
 * @param {string} dir @param {string} statePrefix
 * @returns {Promise<{ ms: number, openMs: number, entries: number, stateRows: number, bytes: number }>}
 */
async function rawScan(dir, statePrefix) {
  const prefix = Buffer.from(statePrefix, 'latin1');
  const t0 = now();
  /** @type {Level<Buffer, Uint8Array>} */
  const db = new Level(dir, { keyEncoding: 'buffer', valueEncoding: 'view' });
  await db.open();
  const openMs = now() - t0;
  let entries = 0;
  let stateRows = 0;
  let bytes = 0;
  const iterator = db.iterator();
  for (;;) {
    const batch = await iterator.nextv(SCAN_BATCH);
    if (batch.length === 0) break;
    for (const [key, value] of batch) {
      entries++;
      bytes += key.byteLength + value.byteLength;
      if (key.subarray(0, prefix.length).equals(prefix)) stateRows++;
    }
  }
  await iterator.close();
  const ms = now() - t0;
  await db.close();
  return { ms, openMs, entries, stateRows, bytes };
}

/** @param {{ scale: number }} o @returns {Promise<import('./lib.mjs').BenchRow[]>} */
export async function recoveryScenario({ scale }) {
  const S = '5 recovery: restart + first batch';
  const keys = keyNames(Math.round(1_000_000 * scale));
  const perBatch = Math.round(250_000 * scale);
  const buildBatches = Math.ceil(keys.length / perBatch);
  // The first batch after the restart: 10,000 events over all keys (1% of them), the same batch size
  // in --quick (so its own cost stays the same and the state's size is what changes).
  const extra = makeBatch({ b: 0, size: Math.min(10_000, perBatch), keys, eventsPerSecond: 100_000 });
  const root = mkdtempSync(join(tmpdir(), 'sluice-bench-recovery-'));
  const checkpoint = join(root, 'checkpoint');
  try {
    // 1. Untimed: the checkpoint, one state entry a key, written in batches of perBatch.
    /** @type {import('sluice').BatchProgress[]} */
    const built = [];
    const clock = new ManualClock();
    const first = await getOrCreate(checkpoint, (dir) => buildJob({ checkpoint: dir, clock, keys, extra, perBatch, completed: built }));
    const firstFailure = failureOf(first);
    await first.start();
    for (let b = 0; b < buildBatches && first.state === 'active'; b++) await clock.advance(INTERVAL);
    await first.stop();
    const failed = await firstFailure;
    if (failed !== undefined) throw failed instanceof Error ? failed : new Error(String(failed));
    // A copy, so the scan and the restart each open the database as the engine left it (the first
    // open of a LevelDB replays its log into a table; neither should find that done by the other).
    const copy = join(root, 'copy');
    cpSync(checkpoint, copy, { recursive: true });

    // 2. The raw full scan of the copy.
    gc();
    const scan = await rawScan(copy, `!state!!${OPERATOR}!`);

    // 3. The restart: a new context on the checkpoint, started, and its first new batch run.
    gc();
    /** @type {import('sluice').BatchProgress[]} */
    const completed = [];
    const t0 = now();
    const clock2 = new ManualClock(buildBatches * INTERVAL);
    const ctx = await getOrCreate(checkpoint, (dir) => buildJob({ checkpoint: dir, clock: clock2, keys, extra, perBatch, completed }));
    // The new batch's commit, timed, and the size of its atomic write (the array's length).
    const checkpointer = checkpointerOf(ctx);
    const timed = timeCommits(ctx);
    const failure = failureOf(ctx);
    await ctx.start();
    const startMs = now() - t0;
    const counted = countBatchOperations(checkpointer.db);
    await clock2.advance(INTERVAL);
    const recoveryMs = now() - t0;

    // The check, untimed: the new batch ran as batch `buildBatches` with the extra events, and the
    // keys it touched hold their first record plus its events.
    const batch = completed.find((p) => p.batchId === buildBatches);
    /** @type {Map<string, Totals>} */
    const expected = new Map();
    for (const e of extra) {
      const i = Number(e.key.slice(1));
      const old = expected.get(e.key) ?? { count: 1, sum: i % 100 };
      expected.set(e.key, { count: old.count + 1, sum: old.sum + e.value });
    }
    const state = queryableState(ctx, OPERATOR);
    let wrong = 0;
    if (ctx.state === 'active') {
      for (const [key, want] of expected) {
        const got = /** @type {Totals | undefined} */ (await state.get(key));
        if (got?.count !== want.count || got.sum !== want.sum) wrong++;
      }
    }
    await ctx.stop();
    const error = await failure;
    if (error !== undefined) throw error instanceof Error ? error : new Error(String(error));
    const builtRows = built.length === buildBatches && built.every((p) => p.numInputRecords === perBatch);
    const agree =
      builtRows && batch !== undefined && batch.numInputRecords === extra.length && completed.length === 1 && wrong === 0 && ctx.state === 'stopped' && scan.stateRows === keys.length;
    const check = agree
      ? `agree (the new batch was batch ${buildBatches} with its ${extra.length} events, no batch replayed; its ${expected.size} keys hold the expected state; the scan saw ${scan.stateRows} state rows)`
      : `DIFFER (built ${built.length} batches ok=${builtRows}, new batch ${batch?.batchId ?? 'missing'} with ${batch?.numInputRecords ?? 0} events, ${completed.length} batches after the restart, ${wrong} wrong keys, scan saw ${scan.stateRows} state rows of ${keys.length})`;
    const met = recoveryMs < 1000 || recoveryMs <= 1.2 * scan.ms;
    return [
      row(S, 'sluice restart + first new batch', keys.length, recoveryMs, {
        note:
          `${keys.length} keys checkpointed in ${buildBatches} batches; timed from new StreamingContext (getOrCreate) to the new batch completed: ` +
          `start() (open, log check, recovery) ${startMs.toFixed(1)} ms, then the batch of ${extra.length} events ${(recoveryMs - startMs).toFixed(1)} ms, ` +
          `of which its commit ${timed.ms.toFixed(1)} ms (an atomic write of ${counted.operations} operations for ${expected.size} state rows); ${check}`,
      }),
      row(S, 'classic-level full scan', scan.entries, scan.ms, {
        baseline: 'raw scan',
        ratio: scan.ms / recoveryMs,
        target: '< 1 s or <= 1.2x scan',
        met,
        note:
          `open and iterate every entry of a copy of the checkpoint (${scan.entries} entries, ${(scan.bytes / 1e6).toFixed(1)} MB of keys and values, ${scan.stateRows} state rows), ` +
          `no decoding: open ${scan.openMs.toFixed(1)} ms (LevelDB replays its log), iterate ${(scan.ms - scan.openMs).toFixed(1)} ms; ratio = scan time / recovery time`,
      }),
    ];
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
