import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WorkerPool } from '../../../core/parallel/worker-pool.js';
import { compute } from './fixtures/compute.mjs';
import { capturingLogger, poolsClosedAfterEach, taskWorkerScript } from './pool-harness.js';

/*
 * The pool's wire (msgpack or structured clone), the log line of a task whose handler threw, and
 * the retry count of a worker that died with two tasks sent to it. The workers run
 * fixtures/task-worker.mjs over the built package (see worker-pool.test.ts).
 */

const script = taskWorkerScript;
const { startPool } = poolsClosedAfterEach();

/** Records of every kind a task may carry, many of them (so that the msgpack wire packs them) or few. */
const records = fc.array(
  fc.oneof(
    fc.tuple(fc.string(), fc.oneof(fc.integer(), fc.double(), fc.bigInt(), fc.constant(undefined))),
    fc.record({ key: fc.string({ unit: 'binary' }), at: fc.date({ noInvalidDate: false }), tags: fc.array(fc.string(), { maxLength: 3 }) }),
    fc.anything({ withMap: true, withSet: true, withDate: true, withBigInt: true, withNullPrototype: true, withTypedArray: true, maxDepth: 2 }),
  ),
  { maxLength: 8 },
);

describe('WorkerPool wire', () => {
  it('delivers payloads and results to and from the workers exactly as a structured clone does, with either wire', async () => {
    const [packed, cloned] = await Promise.all([startPool({ size: 1, wire: 'msgpack' }), startPool({ size: 1, wire: 'clone' })]);
    await fc.assert(
      fc.asyncProperty(records, fc.integer({ min: 0, max: 300 }), async (some, copies) => {
        // Repeated into a partition large enough to go as msgpack when it is plain data.
        const partition = Array.from({ length: copies }, () => some).flat();
        const expected = structuredClone(partition);
        for (const pool of [packed, cloned]) {
          const { results } = await pool.runStage<unknown[]>('echo', [{ payload: { op: 'echo', x: partition } }]);
          expect(results[0]).toStrictEqual(expected);
        }
      }),
      { numRuns: 40 },
    );
  });

  it('runs a retried or speculated task from the same packed payload', async () => {
    const pool = await startPool({ size: 2, workerData: { flags: new SharedArrayBuffer(4 * 8) } });
    const partition = Array.from({ length: 2000 }, (_, i) => ({ key: `k${i}`, value: i }));
    const tasks = [{ payload: { op: 'exitOnce', x: 0, ms: 5, partition } }, { payload: { op: 'echo', x: partition } }];
    const { results, figures } = await pool.runStage<unknown>('packed', tasks);
    expect(results).toEqual([compute(0), partition]);
    expect(figures.retried).toBe(1);
  });

  it('rejects a bad wire option', () => {
    expect(() => new WorkerPool({ script, size: 1, wire: 'json' as 'clone' })).toThrow(/wire must be 'msgpack' or 'clone'/);
  });
});

describe('WorkerPool failures', () => {
  it("names the worker (index and thread id) of a task whose handler threw, in the error and in a warning", async () => {
    const { logger, lines } = capturingLogger();
    const pool = await startPool({ size: 1, logger });
    const error: unknown = await pool.runStage('fails', [{ payload: { op: 'throwType', x: 3 } }]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError);
    expect(error).toMatchObject({ message: 'x must not be 3', worker: 0, threadId: expect.any(Number) as unknown });
    const threadId = (error as { threadId: number }).threadId;
    expect(threadId).toBeGreaterThan(0);
    const warning = lines.find((line) => line['level'] === 40);
    expect(warning).toMatchObject({ stage: 'fails', task: 0, worker: 0, threadId, err: { type: 'TypeError', message: 'x must not be 3', worker: 0, threadId } });
    expect(warning?.['msg']).toBe(`worker pool: task 0 of stage "fails" failed on worker 0 (thread ${threadId}); its stage fails`);
  });

  it('counts one retry for one worker exit when a second task was queued behind the one it ran (tasksInFlight 2)', async () => {
    // Regression: every task sent to the dead worker counted as retried (and as a failed attempt),
    // the queued one too, which never started: one exit reported `retried: 2`.
    const pool = await startPool({ size: 1, tasksInFlight: 2, maxAttempts: 2, workerData: { flags: new SharedArrayBuffer(4 * 8) } });
    const tasks = [{ payload: { op: 'exitOnce', x: 0, ms: 20 } }, { payload: { op: 'compute', x: 1 } }, { payload: { op: 'compute', x: 2 } }];
    const { results, figures } = await pool.runStage('queued', tasks);
    expect(results).toEqual([0, 1, 2].map(compute));
    expect(figures.retried).toBe(1);
  });
});

describe('WorkerPool stragglers', () => {
  const slowPool = (slowWorker: number): Promise<WorkerPool> =>
    // The classic rule (75% done, 1.5x the median, 50 ms) cannot fire: only the slow-worker rule can.
    startPool({ size: 2, workerData: { slowWorker: 0, slowFactor: 6 }, speculation: { quantile: 1, multiplier: 100, minMillis: 60_000, slowWorker } });
  const tasks = (n: number): { payload: { op: string; x: number; ms: number } }[] => Array.from({ length: n }, (_, x) => ({ payload: { op: 'compute', x, ms: 10 } }));

  /** Runs 6 stages of 8 tasks; gives the speculative copies and how many of the last 3 stages' tasks worker 0 (the slow one) ran. */
  async function stages(pool: WorkerPool): Promise<{ speculated: number; slowRan: number }> {
    let speculated = 0;
    let slowRan = 0;
    for (let stage = 0; stage < 6; stage++) {
      const { results, figures } = await pool.runStage('learn', tasks(8));
      expect(results).toEqual(tasks(8).map((t) => compute(t.payload.x)));
      speculated += figures.speculated;
      if (stage >= 3) slowRan += figures.workerOf.filter((w) => w === 0).length;
    }
    return { speculated, slowRan };
  }

  it('gives a worker known to be slow only the tasks it can finish before the others would', async () => {
    // Worker 0 learns to be slow over the first stages (6x the others). Without the rule it takes
    // a task whenever it is free: 2 of each stage's 8; with it, it leaves the stage's tail to the others.
    const [paced, unpaced] = await Promise.all([slowPool(2), slowPool(Infinity)]);
    const [withRule, without] = await Promise.all([stages(paced), stages(unpaced)]);
    expect(withRule.slowRan).toBeLessThan(without.slowRan);
    expect(without.speculated).toBe(0);
  });

  it('copies the running task of a worker known to be slow as soon as another worker is idle and it has run the median', async () => {
    const [paced, unpaced] = await Promise.all([slowPool(2), slowPool(Infinity)]);
    await Promise.all([stages(paced), stages(unpaced)]);
    // The slow worker (first to be offered) takes the long task 0; the other runs the 9 short ones
    // in about 10 ms, then copies task 0 (180 ms on the slow worker, 30 on a fast one).
    const probe = [{ payload: { op: 'compute', x: 0, ms: 30 } }, ...Array.from({ length: 9 }, (_, i) => ({ payload: { op: 'compute', x: i + 1, ms: 1 } }))];
    const [withRule, without] = await Promise.all([paced.runStage('probe', probe), unpaced.runStage('probe', probe)]);
    expect(withRule.results).toEqual(without.results);
    expect(withRule.figures.speculated).toBe(1);
    expect(withRule.figures.workerOf[0]).toBe(1);
    expect(without.figures).toMatchObject({ speculated: 0, workerOf: [0, ...Array.from({ length: 9 }, () => 1)] });
  });

  it('rejects a slowWorker below 1', () => {
    expect(() => new WorkerPool({ script, size: 1, speculation: { slowWorker: 0.5 } })).toThrow(/slowWorker must be ≥ 1/);
  });
});
