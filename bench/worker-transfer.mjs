// S8 building blocks: what moving a partition through a worker thread costs, the per-task
// overhead of the worker pool (core/parallel/worker-pool.ts), and its straggler scheduling with
// one worker that sleeps 5x as long (a model insensitive to the machine's load: sleeping takes
// no CPU). Runs the built package:
//   npm run build && node bench/worker-transfer.mjs [--quick]
// This file is also the workers' script (the branch at the bottom). Prints ratios against
// baselines measured in the same run; never fails on a time.
import { performance } from 'node:perf_hooks';
import { URL } from 'node:url';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { Packr } from 'msgpackr';
import { serveTasks, transferable, WorkerPool } from 'sluice/extend';

const RECORDS = 10_000;
const plain = new Packr({ useRecords: false });
const records = new Packr({ useRecords: true });

/** A Uint8Array that owns its ArrayBuffer, safe to transfer (msgpackr packs into a buffer it reuses). */
const owned = (/** @type {Uint8Array} */ bytes) => new Uint8Array(bytes);

const nap = new Int32Array(new SharedArrayBuffer(4));
let me = -1;

/** @param {unknown} payload */
function handle(payload) {
  const p = /** @type {{ mode: string, data?: unknown, spinMicros?: number, ms?: number, slow?: number }} */ (payload);
  switch (p.mode) {
    case 'empty':
      return null;
    case 'nap':
      Atomics.wait(nap, 0, 0, (p.ms ?? 0) * (me === p.slow ? 5 : 1));
      return null;
    case 'spin': {
      const end = performance.now() + (p.spinMicros ?? 0) / 1000;
      while (performance.now() < end);
      return null;
    }
    case 'clone':
      return p.data;
    case 'plain':
    case 'records':
    case 'recordsCopied': {
      const packr = p.mode === 'plain' ? plain : records;
      const decoded = packr.unpack(/** @type {Uint8Array} */ (p.data));
      const bytes = owned(packr.pack(decoded));
      return p.mode === 'recordsCopied' ? bytes : transferable(bytes, [bytes.buffer]);
    }
    default:
      throw new Error(`unknown mode ${p.mode}`);
  }
}

if (!isMainThread) {
  if (/** @type {{ raw?: boolean }} */ (workerData)?.raw === true) {
    const port = /** @type {import('node:worker_threads').MessagePort} */ (parentPort);
    port.on('message', (message) => port.postMessage(message));
  } else {
    serveTasks(({ index }) => {
      me = index;
      return 'ready';
    }, handle);
  }
} else {
  await main();
}

async function main() {
  const quick = process.argv.includes('--quick');
  const trips = quick ? 10 : 60;
  const emptyTasks = quick ? 2_000 : 10_000;
  const rounds = quick ? 3 : 7;
  const objects = Array.from({ length: RECORDS }, (_, i) => ({ key: `key-${i % 1000}`, value: i % 100, ts: 1_765_000_000_000 + i }));
  const tuples = objects.map((o) => [o.key, o.value]);
  const script = new URL(import.meta.url);

  // The baseline is the structured clone: a pool with wire 'clone'; `auto` is the pool's default
  // wire (msgpack when the value is plain data with many small objects, else the clone).
  const one = new WorkerPool({ size: 1, script, wire: 'clone' });
  const auto = new WorkerPool({ size: 1, script });
  await Promise.all([one.start(), auto.start()]);
  console.log(`Round trip of a partition of ${RECORDS} records through one worker (median of ${trips}; decode and re-encode in the worker included):`);
  for (const [shape, data] of /** @type {const} */ ([['objects {key,value,ts}', objects], ['tuples [key,value]', tuples]])) {
    const clone = await trip(one, trips, () => ({ mode: 'clone', data }), (r) => r);
    const pooled = await trip(auto, trips, () => ({ mode: 'clone', data }), (r) => r);
    const viaPacker = (/** @type {Packr} */ packr, /** @type {string} */ mode, /** @type {boolean} */ move) =>
      trip(
        one,
        trips,
        () => {
          const bytes = owned(packr.pack(data));
          return move ? { payload: { mode, data: bytes }, transfer: [bytes.buffer] } : { mode, data: bytes };
        },
        (r) => packr.unpack(/** @type {Uint8Array} */ (r)),
      );
    const plainMs = await viaPacker(plain, 'plain', true);
    const recordsMs = await viaPacker(records, 'records', true);
    const copiedMs = await viaPacker(records, 'recordsCopied', false);
    const size = owned(records.pack(data)).byteLength;
    console.log(`  ${shape}: structured clone ${f(clone)} ms; the pool's default wire ${f(pooled)} ms (${f(clone / pooled)}× clone); msgpackr transferred ${f(plainMs)} ms (${f(clone / plainMs)}× clone); msgpackr records transferred ${f(recordsMs)} ms (${f(clone / recordsMs)}×); msgpackr records copied, not transferred ${f(copiedMs)} ms (${f(clone / copiedMs)}×); ${size} bytes packed`);
  }
  await Promise.all([one.close(), auto.close()]);

  console.log(`\nPer-task overhead (${emptyTasks} tasks of one stage; 1 and 2 in flight interleaved, median of ${rounds}):`);
  const raw = await rawPingPong(script, emptyTasks);
  console.log(`  raw postMessage ping-pong, no pool: ${f(raw)} µs a round trip`);
  for (const size of [1, 2]) {
    for (const spinMicros of [0, 100]) {
      const tasks = Array.from({ length: emptyTasks }, () => ({ payload: spinMicros === 0 ? { mode: 'empty' } : { mode: 'spin', spinMicros } }));
      const pools = [new WorkerPool({ size, script, tasksInFlight: 1 }), new WorkerPool({ size, script, tasksInFlight: 2 })];
      await Promise.all(pools.map((pool) => pool.start()));
      for (const pool of pools) await pool.runStage('warm', tasks.slice(0, 1000));
      /** @type {number[][]} */
      const runs = [[], []];
      for (let r = 0; r < rounds; r++) {
        for (const [d, pool] of pools.entries()) {
          const { figures } = await pool.runStage('tasks', tasks);
          runs[d]?.push((figures.millis * 1000 * size) / emptyTasks);
        }
      }
      await Promise.all(pools.map((pool) => pool.close()));
      const [d1, d2] = runs.map(median);
      const work = spinMicros === 0 ? 'empty tasks' : `tasks of ${spinMicros} µs`;
      const over = spinMicros === 0 ? '' : `; overhead ${f(d1 - spinMicros)} / ${f(d2 - spinMicros)} µs`;
      console.log(`  ${size} worker(s), ${work}: ${f(d1)} µs a task (per worker) with 1 in flight, ${f(d2)} µs with 2 (${f(d1 / d2)}× as fast)${over}`);
    }
  }

  console.log('\nStraggler scheduling: 2 workers, stages of tasks of 20 ms (a sleep), worker 0 sleeping 5x as long; time against no straggler (the floor is 2 / 1.2 = 1.67x):');
  const stages = quick ? 5 : 20;
  for (const n of [8, 16, 32]) {
    const napTasks = (/** @type {number} */ slow) => Array.from({ length: n }, () => ({ payload: { mode: 'nap', ms: 20, slow } }));
    const stageMs = async (/** @type {import('sluice/extend').WorkerPoolOptions['speculation']} */ speculation, /** @type {number} */ slow) => {
      const pool = new WorkerPool({ size: 2, script, ...(speculation === undefined ? {} : { speculation }) });
      await pool.start();
      let ms = 0;
      let copies = 0;
      for (let s = 0; s < stages; s++) {
        const { figures } = await pool.runStage('nap', napTasks(slow));
        ms += figures.millis;
        copies += figures.speculated;
      }
      await pool.close();
      return { ms, copies };
    };
    const even = await stageMs(undefined, -1);
    const cells = [];
    for (const [name, speculation] of /** @type {const} */ ([['speculation on', undefined], ['without the slow-worker rule', { slowWorker: Infinity }], ['speculation off', false]])) {
      const r = await stageMs(speculation, 0);
      cells.push(`${name} ${f(r.ms / even.ms)}× (${r.copies} copies)`);
    }
    console.log(`  ${n} tasks a stage (${f(even.ms / stages)} ms without a straggler): ${cells.join('; ')}`);
  }
}

/**
 * The median ms of a round trip: make the payload, run it as the one task of a stage, decode.
 * @param {WorkerPool} pool @param {number} n
 * @param {() => unknown} make what to send: a payload, or `{ payload, transfer }` when it has `transfer`
 * @param {(result: unknown) => unknown} decode
 */
async function trip(pool, n, make, decode) {
  const runs = [];
  for (let i = 0; i < n + 3; i++) {
    const t0 = performance.now();
    const made = /** @type {{ payload?: unknown, transfer?: ArrayBuffer[] }} */ (make());
    const task = made.transfer === undefined ? { payload: made } : { payload: made.payload, transfer: made.transfer };
    const { results } = await pool.runStage('trip', [task]);
    decode(results[0]);
    if (i >= 3) runs.push(performance.now() - t0);
  }
  return median(runs);
}

/** µs a round trip of a bare postMessage echo worker, the floor under the pool's overhead. */
async function rawPingPong(/** @type {URL} */ script, /** @type {number} */ n) {
  const { Worker } = await import('node:worker_threads');
  const worker = new Worker(script, { workerData: { raw: true } });
  const runs = [];
  for (let r = 0; r < 3; r++) {
    const t0 = performance.now();
    await new Promise((resolve) => {
      let left = n;
      worker.on('message', function next() {
        if (--left === 0) {
          worker.off('message', next);
          resolve(undefined);
        } else worker.postMessage(null);
      });
      worker.postMessage(null);
    });
    runs.push(((performance.now() - t0) * 1000) / n);
  }
  await worker.terminate();
  return median(runs);
}

/** @param {number[]} xs */
function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return /** @type {number} */ (s[Math.floor(s.length / 2)]);
}

/** @param {number} x */
function f(x) {
  return x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2);
}
