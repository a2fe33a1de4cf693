// Shared helpers of the benchmark suite: deterministic input, timing, and driving a Sluice
// pipeline on a ManualClock. Benchmarks may read wall time; the engine never does.
import { performance } from 'node:perf_hooks';
import { foreachBatch, ManualClock, StreamingContext } from 'sluice';
import { seededRandom } from 'sluice/testing';

/**
 * @typedef {{ key: string, value: number, time: number }} BenchEvent
 * @typedef {{ scenario: string, variant: string, events: number, ms: number, eventsPerSecond: number,
 *   baseline?: string, ratio?: number, target?: string, met?: boolean, note?: string }} BenchRow
 */

/** @param {number} n @returns {string[]} the key names `k0` .. `k{n-1}`. */
export function keyNames(n) {
  return Array.from({ length: n }, (_, i) => `k${i}`);
}

/**
 * The deterministic input: batch `b` of `size` events, keys uniform over `keys`, values 0..99,
 * event times `eventsPerSecond` per second from 0, each up to `jitterMs` earlier (out of order).
 *
 * @param {{ b: number, size: number, keys: string[], eventsPerSecond: number, jitterMs?: number }} o
 * @returns {BenchEvent[]}
 */
export function makeBatch({ b, size, keys, eventsPerSecond, jitterMs = 0 }) {
  const rand = seededRandom(0x5eed + b * 7919);
  /** @type {BenchEvent[]} */
  const out = new Array(size);
  const n = keys.length;
  for (let i = 0; i < size; i++) {
    const index = b * size + i;
    const time = Math.floor((index * 1000) / eventsPerSecond) - Math.floor(rand() * jitterMs);
    out[i] = { key: /** @type {string} */ (keys[Math.floor(rand() * n)]), value: Math.floor(rand() * 100), time: Math.max(0, time) };
  }
  return out;
}

/**
 * The clock of every timing: wall time (`performance.now()`), or with `SLUICE_BENCH_CLOCK=cpu`
 * the process's CPU time (user + system, all its threads, GC helpers included, in ms): on a
 * machine shared with other work, the wall time of a run swings with the others' load (2× to 4×
 * between runs of the same build seen on 2026-12-08), its CPU time far less.
 */
export const now =
  process.env.SLUICE_BENCH_CLOCK === 'cpu'
    ? () => {
        const { user, system } = process.cpuUsage();
        return (user + system) / 1000;
      }
    : () => performance.now();

/** @param {() => void} [fn] Runs a full GC when node runs with --expose-gc. */
export function gc(fn) {
  const g = /** @type {{ gc?: () => void }} */ (globalThis).gc;
  if (g !== undefined) {
    g();
    g();
  }
  fn?.();
}

/**
 * Times every batch commit of a checkpointed context, from its participants' prepare (encoding
 * the staged state) to their committed (the cache update), the atomic write between: `ms` grows
 * by each commit's time, `writeMs` by its LevelDB write's, `commits` by one. Call it once the
 * graph is built and before `start()`: it adds a commit participant first in line and one (when
 * the stores have opened) last.
 *
 * @param {import('sluice').StreamingContext} ctx
 * @returns {{ ms: number, writeMs: number, commits: number }} updated as commits run
 */
export function timeCommits(ctx) {
  const timed = { ms: 0, writeMs: 0, commits: 0 };
  let t0 = 0;
  const nothing = () => undefined;
  // handOff: the pipelined commit stays on (it is on only while every participant supports it).
  ctx.graph.addCommitParticipant({ name: 'bench: commit start', prepare: () => void (t0 = now()), committed: nothing, handOff: nothing, aborted: nothing });
  const end = {
    name: 'bench: commit end',
    prepare: nothing,
    committed: () => {
      timed.ms += now() - t0;
      timed.commits++;
    },
    handOff: nothing,
    aborted: nothing,
  };
  // Start hooks run in order: the stateful operators' (which open the stores and add the backend) came first.
  ctx.graph.services.onStart(() => ctx.graph.addCommitParticipant(end));
  const checkpointer = /** @type {import('sluice').Checkpointer} */ (ctx.graph.checkpointer);
  const write = checkpointer.write.bind(checkpointer);
  checkpointer.write = async (plan, record, operations) => {
    const w0 = now();
    try {
      await write(plan, record, operations);
    } finally {
      timed.writeMs += now() - w0;
    }
  };
  return timed;
}

/**
 * Counts the operations of every atomic write (`batch([...])`) on `db` from now on (the array's
 * length, not walked).
 *
 * @param {unknown} db a LevelDB database
 * @returns {{ operations: number }} updated as writes run
 */
export function countBatchOperations(db) {
  const counted = { operations: 0 };
  const level = /** @type {{ batch: (...args: unknown[]) => unknown }} */ (db);
  const batchOf = level.batch.bind(level);
  level.batch = (...args) => {
    if (Array.isArray(args[0])) counted.operations += args[0].length;
    return batchOf(...args);
  };
  return counted;
}

/**
 * Runs each of `variants` `rounds` times, interleaved (all variants once, then all again, ...),
 * each after a full GC, and gives each variant's median time with the result of its first run.
 * Interleaving makes a slow spell of the machine hit every variant alike; the median drops the
 * odd run that a garbage collection or a neighbour made slow.
 *
 * @template {Record<string, () => Promise<{ ms: number }> | { ms: number }>} V
 * @param {number} rounds
 * @param {V} variants
 * @returns {Promise<{ [K in keyof V]: Awaited<ReturnType<V[K]>> & { runs: number[] } }>}
 */
export async function medianOf(rounds, variants) {
  /** @type {Record<string, { first: { ms: number }, runs: number[] }>} */
  const seen = {};
  for (let round = 0; round < rounds; round++) {
    for (const [name, run] of Object.entries(variants)) {
      gc();
      const result = await run();
      const entry = (seen[name] ??= { first: result, runs: [] });
      entry.runs.push(result.ms);
    }
  }
  /** @type {Record<string, unknown>} */
  const out = {};
  for (const [name, { first, runs }] of Object.entries(seen)) {
    const sorted = [...runs].sort((a, b) => a - b);
    out[name] = { ...first, ms: /** @type {number} */ (sorted[Math.floor(sorted.length / 2)]), runs };
  }
  return /** @type {never} */ (out);
}

/**
 * The note on the runs behind the medians, when there was more than one.
 *
 * @param {{ runs: number[] }} sluice @param {{ runs: number[] }} baseline
 */
export function runsNote(sluice, baseline) {
  if (sluice.runs.length < 2) return '';
  const ms = (/** @type {number[]} */ runs) => runs.map((t) => t.toFixed(0)).join(', ');
  return `; median of ${sluice.runs.length} interleaved runs (sluice ${ms(sluice.runs)} ms; baseline ${ms(baseline.runs)} ms)`;
}

/**
 * Runs a Sluice pipeline over `numBatches` input batches on a ManualClock and times only the
 * batches (input generation is outside the timing). The sink counts the output records.
 *
 * @template T, U
 * @param {{ numBatches: number, batch: (b: number) => T[], build: (input: import('sluice').DStream<T>) => import('sluice').DStream<U>,
 *   interval?: number, parallelism?: number, extraBatches?: number, onOutput?: (records: readonly U[]) => void,
 *   onProgress?: (progress: import('sluice').BatchProgress) => void }} o
 * @returns {Promise<{ ms: number, outputs: number }>}
 */
export async function runSluice({ numBatches, batch, build, interval = 1000, parallelism, extraBatches = 0, onOutput, onProgress }) {
  const clock = new ManualClock();
  // Without `parallelism`, the context's default (what a user gets).
  const ctx = new StreamingContext({ batchInterval: interval, clock, ...(parallelism === undefined ? {} : { defaultParallelism: parallelism }) });
  /** @type {T[][]} */
  const queue = [];
  let outputs = 0;
  build(ctx.queueStream(queue, { name: 'bench-input' })).pipe(
    foreachBatch((records) => {
      outputs += records.length;
      onOutput?.(records);
    }),
  );
  if (onProgress !== undefined) {
    ctx.addListener((event) => {
      if (event.type === 'batchCompleted') onProgress(event.progress);
    });
  }
  /** @type {unknown} */
  let failure;
  ctx.awaitTermination().catch((/** @type {unknown} */ error) => {
    failure = error;
  });
  await ctx.start();
  let ms = 0;
  for (let b = 0; b < numBatches + extraBatches && ctx.state === 'active'; b++) {
    if (b < numBatches) queue.push(batch(b));
    const t0 = now();
    await clock.advance(interval);
    ms += now() - t0;
  }
  await ctx.stop();
  if (failure !== undefined) throw failure instanceof Error ? failure : new Error(String(failure));
  return { ms, outputs };
}

/**
 * Times `step(b, events)` over the same batches (generation untimed).
 *
 * @template T
 * @param {{ numBatches: number, batch: (b: number) => T[], step: (b: number, events: T[]) => void, finish?: () => void }} o
 * @returns {number} the milliseconds spent in `step` and `finish`.
 */
export function timeBatches({ numBatches, batch, step, finish }) {
  let ms = 0;
  for (let b = 0; b < numBatches; b++) {
    const events = batch(b);
    const t0 = now();
    step(b, events);
    ms += now() - t0;
  }
  const t0 = now();
  finish?.();
  return ms + (now() - t0);
}

/**
 * @param {string} scenario @param {string} variant @param {number} events @param {number} ms
 * @param {Partial<BenchRow>} [extra]
 * @returns {BenchRow}
 */
export function row(scenario, variant, events, ms, extra = {}) {
  return { scenario, variant, events, ms: Math.round(ms * 10) / 10, eventsPerSecond: Math.round((events * 1000) / ms), ...extra };
}
