// Scenario 12: overload. A rate source offers twice what the job sustains, in 100 ms batches on
// the wall clock, with and without backpressure: the scheduling delay after the settling period,
// and the throughput against the job's own maximum, measured in the same run.
import { fork } from 'node:child_process';
import { once } from 'node:events';
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

/**
 * The flooding sender, a child process (so it never shares the engine's event loop): a TCP server
 * that, once the engine connects, writes 100-byte lines as fast as the socket takes them, waiting
 * for `drain` whenever the kernel's buffers are full (TCP flow control), until told to stop; then
 * it reports the lines it wrote.
 */
const FLOOD_SENDER = `
const { createServer } = require('node:net');
const line = 'x'.repeat(99) + '\\n';
const chunk = line.repeat(100);
let written = 0;
let stopped = false;
const server = createServer((socket) => {
  socket.on('error', () => undefined);
  const pump = () => {
    while (!stopped) {
      written += 100;
      if (!socket.write(chunk)) return void socket.once('drain', pump);
    }
  };
  pump();
});
server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
process.on('message', () => { stopped = true; process.send({ written }); setImmediate(() => process.exit(0)); });
process.on('disconnect', () => process.exit(0));
`;

/**
 * The socket source under a sender that never stops, with backpressure: `batches` batches of
 * 100 ms of the same job; the process's heap and RSS after each batch.
 * @param {{ batches: number }} o
 */
async function socketFlood({ batches }) {
  const sender = fork('-e', [FLOOD_SENDER], { execArgv: [], stdio: ['ignore', 'ignore', 'inherit', 'ipc'], execPath: process.execPath });
  const [{ port }] = /** @type {[{ port: number }]} */ (await once(sender, 'message'));
  const ctx = new StreamingContext({ batchInterval: INTERVAL, backpressure: true });
  /** @type {{ records: number, heap: number, rss: number, delay: number }[]} */
  const samples = [];
  let done = () => {};
  const finished = new Promise((resolve) => (done = () => resolve(undefined)));
  ctx.addListener((e) => {
    if (e.type !== 'batchCompleted') return;
    const { heapUsed, rss } = process.memoryUsage();
    samples.push({ records: e.progress.numInputRecords, heap: heapUsed, rss, delay: e.progress.schedulingDelayMs });
    if (samples.length === batches) done();
  });
  ctx.socketTextStream('127.0.0.1', port, { highWaterMark: 20_000, maxBufferedBytes: 4 << 20 }).pipe(map((l) => (spin(COST_MS), l)), foreachBatch(() => undefined));
  await ctx.start();
  await finished;
  sender.send('stop');
  const [{ written }] = /** @type {[{ written: number }]} */ (await once(sender, 'message'));
  await ctx.stop();
  return { samples, written };
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
  const flood = await socketFlood({ batches });
  const settled = flood.samples.slice(settle);
  const mib = (/** @type {number} */ b) => (b / (1 << 20)).toFixed(1);
  const read = flood.samples.reduce((n, s) => n + s.records, 0);
  const heapFirst = /** @type {{ heap: number }} */ (settled[0]).heap;
  const heapMax = Math.max(...settled.map((s) => s.heap));
  const rssMax = Math.max(...settled.map((s) => s.rss));
  const note = (/** @type {typeof on} */ f) => `after ${settle} batches: scheduling delay ${f.firstDelay.toFixed(0)} → ${f.lastDelay.toFixed(0)} ms (max ${f.maxDelay.toFixed(0)} ms)`;
  return [
    row(S, 'job maximum (bounded run)', Math.round(max), 1000, { note: `${COST_MS} ms of work per record; offered ${rate} records/s for ${batches} batches` }),
    row(S, 'backpressure on', on.records, on.ms, { baseline: 'job maximum', ratio: on.perSecond / max, target: '>= 0.9', met: on.perSecond >= 0.9 * max && on.maxDelay < 2 * INTERVAL, note: `${note(on)}; target also: delay < ${2 * INTERVAL} ms` }),
    row(S, 'backpressure off', off.records, off.ms, { baseline: 'job maximum', ratio: off.perSecond / max, note: `${note(off)}: it grows by about ${((off.lastDelay - off.firstDelay) / (batches - settle - 1)).toFixed(0)} ms a batch` }),
    row(S, 'socket source, a sender that never stops, backpressure on', read, batches * INTERVAL, {
      note: `the sender wrote ${flood.written} lines, the job read ${read} (TCP held the rest back); after ${settle} batches heap ${mib(heapFirst)} → max ${mib(heapMax)} MiB, RSS max ${mib(rssMax)} MiB; scheduling delay max ${Math.max(...settled.map((s) => s.delay)).toFixed(0)} ms`,
    }),
  ];
}
