// Scenario 6: latency on the wall clock. A sender in a child process (latency-sender.mjs) writes
// 100,000 lines a second to the socket source for 60 s (3 s with --quick); the job parses them,
// groups them by key per 100 ms batch (groupByKey keeps every record's send time) and the sink
// takes each record's latency (sink time minus send time). Scheduling delay comes from the
// engine's batchCompleted progress events.
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { clearTimeout, setTimeout } from 'node:timers';
import { URL } from 'node:url';
import { StreamingContext, foreachBatch, groupByKey, map, mapToPair } from 'sluice';
import { levelCheckpoint } from 'sluice/checkpoint';
import { row } from './lib.mjs';

/**
 * @typedef {import('./latency-sender.mjs').FromSender} FromSender
 * @typedef {import('./latency-sender.mjs').ToSender} ToSender
 * @typedef {{ batchTime: number, schedulingDelayMs: number, processingTimeMs: number, records: number }} BatchFigures
 */

/** The wall clock in ms with sub-millisecond resolution, comparable across processes. */
const wallNow = () => performance.timeOrigin + performance.now();

/** @param {ArrayLike<number>} sorted @param {number} q @returns {number} the nearest-rank q-quantile. */
function quantile(sorted, q) {
  return sorted.length === 0 ? Number.NaN : /** @type {number} */ (sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]);
}

/** @param {readonly number[]} xs */
const mean = (xs) => (xs.length === 0 ? Number.NaN : xs.reduce((a, b) => a + b, 0) / xs.length);
const r1 = (/** @type {number} */ n) => Math.round(n * 10) / 10;

/** @param {string} line `<send time ms>,<key>` @returns {{ key: string, sent: number }} */
function parse(line) {
  const comma = line.indexOf(',');
  return { key: line.slice(comma + 1), sent: Number(line.slice(0, comma)) };
}

/** @param {{ scale: number }} o @returns {Promise<import('./lib.mjs').BenchRow[]>} */
export function latencyScenario({ scale }) {
  return latencyRun({ scale, checkpointed: false });
}

/**
 * Scenario 6b: the same job with a LevelDB checkpoint committed every batch (the socket source
 * then logs every line it receives to the checkpoint's write-ahead log before a batch reads it).
 *
 * @param {{ scale: number }} o @returns {Promise<import('./lib.mjs').BenchRow[]>}
 */
export async function checkpointedLatencyScenario({ scale }) {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-latency-'));
  try {
    return await latencyRun({ scale, checkpointed: true, dir });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** @param {{ scale: number, checkpointed: boolean, dir?: string }} o @returns {Promise<import('./lib.mjs').BenchRow[]>} */
async function latencyRun({ scale, checkpointed, dir }) {
  const S = checkpointed ? '6b latency: socket, 100 ms batches, LevelDB checkpoint every batch' : '6 latency: socket, 100 ms batches';
  const rate = 100_000;
  const interval = 100;
  const keys = 1000;
  const durationMs = Math.round(60_000 * scale);
  const total = Math.round((rate * durationMs) / 1000);
  const warmupMs = Math.min(2000, durationMs / 6);
  const growthToleranceMs = 10;

  const sender = fork(new URL('./latency-sender.mjs', import.meta.url), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const exited = new Promise((resolve) => sender.once('exit', resolve));
  /** @template {FromSender['type']} K @param {K} type @returns {Promise<Extract<FromSender, { type: K }>>} */
  const next = (type) =>
    new Promise((resolve, reject) => {
      /** @param {FromSender} m */
      const on = (m) => {
        if (m.type !== type) return;
        sender.off('message', on);
        sender.off('exit', fail);
        resolve(/** @type {Extract<FromSender, { type: K }>} */ (m));
      };
      const fail = () => void reject(new Error(`latency sender exited before '${type}'`));
      sender.on('message', on);
      sender.once('exit', fail);
    });
  const tell = (/** @type {ToSender} */ m) => void sender.send(m);

  const { port } = await next('listening');
  // The sender's clock minus ours, from the ping with the shortest round trip (reported, not corrected).
  let offset = { rtt: Number.POSITIVE_INFINITY, ms: 0 };
  for (let i = 0; i < 10; i++) {
    const t0 = wallNow();
    const pong = next('pong');
    tell({ type: 'ping' });
    const { at } = await pong;
    const t1 = wallNow();
    if (t1 - t0 < offset.rtt) offset = { rtt: t1 - t0, ms: at - (t0 + t1) / 2 };
  }

  // Latencies of records sent after the warm-up from the front, of warm-up records from the back.
  const latencies = new Float64Array(total);
  let measured = 0;
  let warm = 0;
  let seen = 0;
  let lastSinkAt = 0;
  let measureFrom = Number.POSITIVE_INFINITY;
  /** @type {() => void} */
  let allSeen = () => undefined;
  const arrived = new Promise((resolve) => (allSeen = () => void resolve(undefined)));

  const ctx = new StreamingContext({ batchInterval: interval, ...(checkpointed ? { checkpoint: levelCheckpoint(/** @type {string} */ (dir)) } : {}) });
  ctx.socketTextStream('127.0.0.1', port, { name: 'latency-input' }).pipe(
    map(parse),
    mapToPair((e) => [e.key, e.sent]),
    groupByKey(),
    foreachBatch((groups) => {
      // The whole batch reaches the sink at once: one reading of the clock for all its records.
      const at = wallNow();
      for (const [, sents] of groups) {
        for (let i = 0; i < sents.length; i++) {
          const sent = /** @type {number} */ (sents[i]);
          seen++;
          if (measured + warm >= total) continue; // more than was sent: counted, reported below
          if (sent >= measureFrom) latencies[measured++] = at - sent;
          else latencies[total - 1 - warm++] = at - sent;
        }
      }
      if (groups.length > 0) lastSinkAt = at;
      if (seen >= total) allSeen();
    }),
  );
  /** @type {BatchFigures[]} */
  const batches = [];
  ctx.addListener((event) => {
    if (event.type !== 'batchCompleted') return;
    const p = event.progress;
    batches.push({ batchTime: p.batchTime, schedulingDelayMs: p.schedulingDelayMs, processingTimeMs: p.processingTimeMs, records: p.numInputRecords });
  });
  /** @type {unknown} */
  let failure;
  ctx.awaitTermination().catch((/** @type {unknown} */ error) => {
    failure = error;
  });
  await ctx.start();

  const goAt = wallNow();
  measureFrom = goAt + warmupMs;
  const done = next('done');
  tell({ type: 'go', rate, durationMs, keys });
  const report = await done;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  const drained = await Promise.race([
    arrived.then(() => true),
    ctx.awaitTermination().then(() => false, () => false), // failed: no use waiting
    new Promise((resolve) => (timer = setTimeout(() => void resolve(false), 30_000))),
  ]);
  clearTimeout(timer);
  await ctx.stop();
  tell({ type: 'exit' });
  await exited;
  if (failure !== undefined) throw failure instanceof Error ? failure : new Error(String(failure));

  const after = latencies.subarray(0, measured).sort();
  const all = new Float64Array(measured + warm);
  all.set(latencies.subarray(0, measured));
  all.set(latencies.subarray(total - warm), measured);
  all.sort();
  const p50 = quantile(after, 0.5);
  const p99 = quantile(after, 0.99);

  // Batches after the warm-up that had input flowing (the empty ones after the end are left out).
  const steady = batches.filter((b) => b.batchTime >= measureFrom && b.batchTime <= report.endedAt + interval);
  const quarter = Math.max(1, Math.floor(steady.length / 4));
  const firstQ = mean(steady.slice(0, quarter).map((b) => b.schedulingDelayMs));
  const lastQ = mean(steady.slice(-quarter).map((b) => b.schedulingDelayMs));
  const maxDelay = Math.max(0, ...steady.map((b) => b.schedulingDelayMs));
  // Least-squares slope of scheduling delay against batch time, in ms per second of run.
  const tMean = mean(steady.map((b) => b.batchTime));
  const dMean = mean(steady.map((b) => b.schedulingDelayMs));
  const sxx = steady.reduce((s, b) => s + (b.batchTime - tMean) ** 2, 0);
  const slope = sxx === 0 ? 0 : (steady.reduce((s, b) => s + (b.batchTime - tMean) * (b.schedulingDelayMs - dMean), 0) / sxx) * 1000;
  const notGrowing = steady.length >= 4 && lastQ <= firstQ + growthToleranceMs;
  const processing = steady.map((b) => b.processingTimeMs).sort((a, b) => a - b);
  const inputRecords = batches.reduce((n, b) => n + b.records, 0);

  const runMs = lastSinkAt - report.startedAt;
  const eventsPerSecond = Math.round((seen * 1000) / runMs);
  const lost = report.sent - seen;
  const check =
    lost === 0 && inputRecords === report.sent
      ? `all ${report.sent} records reached the sink`
      : `RECORDS ${lost > 0 ? 'LOST' : 'DUPLICATED'}: sent ${report.sent}, read ${inputRecords}, at the sink ${seen}${drained ? '' : ' (gave up waiting 30 s after the sender finished)'}`;
  const perBatch = steady.length === 0 ? 0 : Math.round(mean(steady.map((b) => b.records)));
  const base = { eventsPerSecond };
  return [
    row(S, 'p50 latency', seen, p50, {
      ...base,
      note:
        `${report.sent} lines at ${rate} ev/s for ${durationMs / 1000} s (sender sent for ${r1((report.endedAt - report.startedAt) / 1000)} s; ` +
        `${report.ticks} chunks, largest gap between chunks ${r1(report.maxTickGapMs)} ms, most bytes waiting in its socket ${report.maxBufferedBytes}), ` +
        `${keys} keys, parse+mapToPair+groupByKey; ${check}; events/s = records at the sink / (last sink time - first send)`,
    }),
    row(S, 'p99 latency', seen, p99, {
      ...base,
      target: '<= 250 ms',
      met: p99 <= 250,
      note:
        `latency = sink time - send time of every record, over the ${measured} records sent after a ${warmupMs / 1000} s warm-up; ` +
        `max ${r1(quantile(after, 1))} ms; over all ${all.length} records incl. warm-up: p50 ${r1(quantile(all, 0.5))}, p99 ${r1(quantile(all, 0.99))}, max ${r1(quantile(all, 1))} ms; ` +
        `sender clock - engine clock ${offset.ms.toFixed(3)} ms (ping round trip ${offset.rtt.toFixed(3)} ms), not corrected`,
    }),
    row(S, 'scheduling delay (max)', seen, maxDelay, {
      ...base,
      target: 'not growing',
      met: notGrowing,
      note:
        `${steady.length} batches after the warm-up while input flowed (about ${perBatch} records each): scheduling delay mean ${r1(dMean)} ms, ` +
        `first quarter ${r1(firstQ)} ms, last quarter ${r1(lastQ)} ms, slope ${slope.toFixed(3)} ms/s, max ${r1(maxDelay)} ms; ` +
        `criterion: last-quarter mean <= first-quarter mean + ${growthToleranceMs} ms; ` +
        `processing time p50 ${r1(quantile(processing, 0.5))}, p99 ${r1(quantile(processing, 0.99))}, max ${r1(quantile(processing, 1))} ms (interval ${interval} ms)`,
    }),
  ];
}
