// Scenario 12: overload. A rate source offers twice what the job sustains, in 100 ms batches on
// the wall clock, with and without backpressure: the scheduling delay after the settling period,
// and the throughput against the job's own maximum, measured in the same run.
import { foreachBatch, map, StreamingContext } from 'sluice';
import { now, row } from './lib.mjs';

const INTERVAL = 100;
/** Work per record, ms: a busy loop standing for a record's real processing. */
const COST_MS = 0.02;

/** @param {number} ms */
function spin(ms) {
  const until = now() + ms;
  while (now() < until) {
    // busy: the job's per-record work
  }
}

/**
 * The job's maximum: records per second through the same pipeline, in one bounded run.
 * @param {number} records @returns {Promise<number>}
 */
async function maximumRate(records) {
  const ctx = new StreamingContext({ batchInterval: INTERVAL });
  ctx.fromIterable(Array.from({ length: records }, (_, i) => i), { maxRecordsPerBatch: records }).pipe(map((r) => (spin(COST_MS), r)), foreachBatch(() => undefined));
  const t0 = now();
  await ctx.runToCompletion({ maxRecordsPerBatch: records });
  return (records * 1000) / (now() - t0);
}

/**
 * Runs `batches` batches of the job on the wall clock, offered `rate` records/s.
 * @param {{ rate: number, batches: number, backpressure: boolean }} o
 * @returns {Promise<import('sluice').BatchProgress[]>}
 */
async function run({ rate, batches, backpressure }) {
  const ctx = new StreamingContext({ batchInterval: INTERVAL, backpressure });
  /** @type {import('sluice').BatchProgress[]} */
  const progress = [];
  let done = () => {};
  const finished = new Promise((resolve) => (done = () => resolve(undefined)));
  ctx.addListener((e) => {
    if (e.type !== 'batchCompleted') return;
    progress.push(e.progress);
    if (progress.length === batches) done();
  });
  // At most twice an interval's offer per batch: without a bound a late batch takes all the
  // records of its longer wait, and the delay grows geometrically.
  ctx.rateStream({ rowsPerSecond: rate, maxRecordsPerBatch: Math.ceil((2 * rate * INTERVAL) / 1000) }).pipe(map((r) => (spin(COST_MS), r)), foreachBatch(() => undefined));
  await ctx.start();
  await finished;
  await ctx.stop();
  return progress.slice(0, batches);
}

/** @param {{ scale: number }} o @returns {Promise<import('./lib.mjs').BenchRow[]>} */
export async function overloadScenario({ scale }) {
  const S = '12 overload: 2x the sustainable rate, 100 ms batches';
  const batches = scale < 1 ? 30 : 60;
  const max = await maximumRate(Math.round(50_000 * Math.max(scale, 0.2)));
  const rate = Math.round(2 * max);
  const settle = 10;
  const figures = async (/** @type {boolean} */ backpressure) => {
    const progress = await run({ rate, batches, backpressure });
    const after = progress.slice(settle);
    const records = after.reduce((n, p) => n + p.numInputRecords, 0);
    const span = (/** @type {import('sluice').BatchProgress} */ (after[after.length - 1]).batchTime - /** @type {import('sluice').BatchProgress} */ (after[0]).batchTime + INTERVAL) / 1000;
    const delays = after.map((p) => p.schedulingDelayMs);
    // Throughput: records per second of the batches' own time, taking into account how late the last one ran.
    const elapsed = span + (/** @type {number} */ (delays[delays.length - 1]) - /** @type {number} */ (delays[0])) / 1000;
    return { records, ms: elapsed * 1000, perSecond: records / elapsed, maxDelay: Math.max(...delays), lastDelay: /** @type {number} */ (delays[delays.length - 1]), firstDelay: /** @type {number} */ (delays[0]) };
  };
  const on = await figures(true);
  const off = await figures(false);
  const note = (/** @type {typeof on} */ f) => `after ${settle} batches: scheduling delay ${f.firstDelay.toFixed(0)} → ${f.lastDelay.toFixed(0)} ms (max ${f.maxDelay.toFixed(0)} ms)`;
  return [
    row(S, 'job maximum (bounded run)', Math.round(max), 1000, { note: `${COST_MS} ms of work per record; offered ${rate} records/s for ${batches} batches` }),
    row(S, 'backpressure on', on.records, on.ms, { baseline: 'job maximum', ratio: on.perSecond / max, target: '>= 0.9', met: on.perSecond >= 0.9 * max && on.maxDelay < 2 * INTERVAL, note: `${note(on)}; target also: delay < ${2 * INTERVAL} ms` }),
    row(S, 'backpressure off', off.records, off.ms, { baseline: 'job maximum', ratio: off.perSecond / max, note: `${note(off)}: it grows by about ${((off.lastDelay - off.firstDelay) / (batches - settle - 1)).toFixed(0)} ms a batch` }),
  ];
}
