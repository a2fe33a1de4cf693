import { execFile } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SluiceError } from '../../../core/errors.js';
import { WorkerPool, type PoolTask } from '../../../core/parallel/worker-pool.js';
import { compute } from './fixtures/compute.mjs';
import { capturingLogger, poolsClosedAfterEach, taskWorkerScript } from './pool-harness.js';

/*
 * The pool on real worker threads. The workers run test/core/parallel/fixtures/task-worker.mjs,
 * plain JavaScript that imports the built package (dist/, built by test/global-setup.ts); the
 * pool itself runs from the sources, and both speak the same messages (core/parallel/wire.ts).
 */

const script = taskWorkerScript;
type Computed = ReturnType<typeof compute>;

const { startPool, track } = poolsClosedAfterEach();

/** Waits until `done()` holds, for up to 10 s (a worker's start takes a while on a busy machine). */
async function until(done: () => boolean): Promise<void> {
  for (let waited = 0; !done(); waited += 20) {
    if (waited > 10_000) throw new Error('waited 10 s in vain');
    await sleep(20);
  }
}

const computeTasks = (xs: readonly number[], ms = 0): PoolTask[] => xs.map((x) => ({ payload: { op: 'compute', x, ms } }));

describe('WorkerPool', () => {
  it('gives every task the result of running its handler inline, in task order, for any task count, pool size and tasks in flight', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: -1000, max: 1000 }), { maxLength: 40 }),
        fc.integer({ min: 1, max: 3 }),
        fc.constantFrom(1 as const, 2 as const),
        async (xs, size, tasksInFlight) => {
          const pool = await startPool({ size, tasksInFlight });
          const { results, figures } = await pool.runStage<Computed>('compute', computeTasks(xs));
          expect(results).toEqual(xs.map(compute));
          expect(figures).toMatchObject({ tasks: xs.length, retried: 0 });
          expect(figures.workerOf.every((w) => w >= 0 && w < size)).toBe(true);
          await pool.close();
        },
      ),
      { numRuns: 6 },
    );
  });

  it('says hello: start() resolves with each worker hello value by index', async () => {
    const pool = new WorkerPool({ script, size: 2 });
    track(pool);
    expect(await pool.start()).toEqual([{ index: 0 }, { index: 1 }]);
  });

  it('starts in a process run with options a worker thread refuses (V8 flags, -e code): the workers inherit the rest', async () => {
    // Regression: `node --expose-gc` (as `npm run bench` runs) made every worker fail to start.
    const code = [
      "import { WorkerPool } from 'sluice/extend';",
      `const pool = new WorkerPool({ size: 1, script: new URL(${JSON.stringify(script.href)}) });`,
      'console.log(JSON.stringify(await pool.start()));',
      'await pool.close();',
    ].join('\n');
    const { stdout } = await promisify(execFile)(process.execPath, ['--expose-gc', '--max-old-space-size=2048', '--input-type=module', '-e', code], { cwd: new URL('../../../', import.meta.url) });
    expect(JSON.parse(stdout)).toEqual([{ index: 0 }]);
  });

  it('fails start() with WORKER_FAILED when a worker cannot start', async () => {
    const pool = new WorkerPool({ script, size: 2, workerData: { failHello: true } });
    track(pool);
    const error: unknown = await pool.start().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SluiceError);
    expect(error).toMatchObject({ code: 'WORKER_FAILED', message: expect.stringMatching(/Worker \d of the pool failed to start: this worker refuses to start/) as unknown });
    expect((error as Error).cause).toBeInstanceOf(RangeError);
  });

  it('runs a task whose worker was terminated mid-task again elsewhere, replaces the worker, which says hello again', async () => {
    const { logger, lines } = capturingLogger();
    const hellos: number[] = [];
    const pool = await startPool({ size: 2, logger, checkHello: (_hello, index) => void hellos.push(index) });
    const xs = [1, 2, 3, 4, 5, 6];
    const stage = pool.runStage<Computed>('slow', computeTasks(xs, 150));
    await sleep(60);
    await pool.terminateWorker(0);
    const { results, figures } = await stage;
    expect(results).toEqual(xs.map(compute));
    expect(figures.retried).toBeGreaterThanOrEqual(1);
    await until(() => hellos.length === 3);
    expect(hellos.sort()).toEqual([0, 0, 1]);
    expect(lines.some((line) => line['level'] === 40 && line['worker'] === 0)).toBe(true);
  });

  it('runs a task whose worker called process.exit mid-task again on another worker', async () => {
    const { logger, lines } = capturingLogger();
    const flags = new SharedArrayBuffer(4 * 8);
    const pool = await startPool({ size: 2, logger, workerData: { flags } });
    const xs = [0, 1, 2, 3, 4, 5, 6, 7];
    const tasks = xs.map((x) => ({ payload: { op: x === 3 ? 'exitOnce' : 'compute', x, ms: 10 } }));
    const { results, figures } = await pool.runStage<Computed>('exits', tasks);
    expect(results).toEqual(xs.map(compute));
    expect(figures.retried).toBe(1);
    const warning = lines.find((line) => line['level'] === 40);
    expect(warning?.['msg']).toMatch(/worker \d failed \(the worker exited with code 7\)/);
    expect(warning?.['tasks']).toEqual(['exits#3']);
  });

  it('runs a task whose worker died of an uncaught error again on another worker', async () => {
    const { logger, lines } = capturingLogger();
    const pool = await startPool({ size: 2, logger, workerData: { flags: new SharedArrayBuffer(4 * 8) } });
    const xs = [0, 1, 2, 3, 4];
    const tasks = xs.map((x) => ({ payload: { op: x === 2 ? 'uncaughtOnce' : 'compute', x, ms: 5 } }));
    const { results, figures } = await pool.runStage<Computed>('uncaught', tasks);
    expect(results).toEqual(xs.map(compute));
    expect(figures.retried).toBe(1);
    expect(lines.find((line) => line['level'] === 40)?.['msg']).toMatch(/failed \(uncaught in the worker\)/);
  });

  it('goes on with fewer workers when a replacement fails to start, and fails its stages with WORKER_FAILED when none is left', async () => {
    const { logger, lines } = capturingLogger();
    const two = await startPool({ size: 2, logger, workerData: { flags: new SharedArrayBuffer(4 * 8), maxStarts: 2 } });
    const xs = [0, 1, 2, 3, 4];
    const tasks = xs.map((x) => ({ payload: { op: x === 1 ? 'exitOnce' : 'compute', x, ms: 5 } }));
    expect((await two.runStage<Computed>('fewer', tasks)).results).toEqual(xs.map(compute));
    await until(() => lines.some((line) => /the replacement of worker \d failed to start/.test(String(line['msg']))));
    expect((await two.runStage<Computed>('one left', computeTasks([7, 8]))).figures.workerOf).toEqual([expect.any(Number), expect.any(Number)]);

    const one = await startPool({ size: 1, workerData: { flags: new SharedArrayBuffer(4 * 8), maxStarts: 1 } });
    const error: unknown = await one.runStage('alone', [{ payload: { op: 'exitOnce', x: 0 } }]).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'WORKER_FAILED', message: expect.stringContaining('Every worker of the pool died') as unknown });
    await expect(one.runStage('after', computeTasks([1]))).rejects.toMatchObject({ code: 'WORKER_FAILED' });
  });

  it('fails the stage with WORKER_FAILED, naming stage, task and worker, when a task loses its worker maxAttempts times', async () => {
    const pool = await startPool({ size: 2, maxAttempts: 2 });
    const tasks = [...computeTasks([1, 2]), { payload: { op: 'exitAlways', x: 0 } }];
    const error: unknown = await pool.runStage('doomed', tasks).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'WORKER_FAILED', message: expect.stringMatching(/^Stage "doomed": task 2 lost its worker \(worker \d: the worker exited with code 7\) on 2 attempts/) as unknown });
    // The pool goes on with fresh workers.
    expect((await pool.runStage<Computed>('after', computeTasks([9]))).results).toEqual([compute(9)]);
  });

  it('re-creates a SluiceError a handler threw, with its code and context, without retrying', async () => {
    const pool = await startPool({ size: 2 });
    const tasks = [...computeTasks([1, 2], 50), { payload: { op: 'throwSluice', x: 7 } }];
    const error: unknown = await pool.runStage('fails', tasks).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SluiceError);
    expect(error).toMatchObject({ code: 'BAD_RECORD', message: 'record 7 is bad', operator: 'op#1', batchId: 4 });
    expect((error as Error).stack).toContain('task-worker.mjs');
  });

  it('re-creates a TypeError a handler threw as a TypeError', async () => {
    const pool = await startPool({ size: 1 });
    const error: unknown = await pool.runStage('fails', [{ payload: { op: 'throwType', x: 3 } }]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toBe('x must not be 3');
  });

  it('starts a speculative copy of a straggler on an idle worker; the first result wins and the late copy is discarded', async () => {
    const { logger, lines } = capturingLogger();
    const pool = await startPool({ size: 3, logger, workerData: { slowWorker: 0, slowFactor: 40 }, speculation: { minMillis: 10 } });
    const xs = [0, 1, 2, 3, 4, 5, 6, 7, 8];
    const { results, figures } = await pool.runStage<Computed>('straggly', computeTasks(xs, 15));
    expect(results).toEqual(xs.map(compute));
    expect(figures.speculated).toBeGreaterThanOrEqual(1);
    expect(figures.workerOf.includes(0)).toBe(false);
    expect(figures.millis).toBeLessThan(500);
    await until(() => lines.some((line) => line['msg'] === 'worker pool: a late copy of a task was discarded' && line['worker'] === 0));
  });

  it('waits for the straggler when speculation is off', async () => {
    const pool = await startPool({ size: 3, workerData: { slowWorker: 0, slowFactor: 40 }, speculation: false });
    const xs = [0, 1, 2, 3, 4, 5, 6, 7, 8];
    const { results, figures } = await pool.runStage<Computed>('straggly', computeTasks(xs, 15));
    expect(results).toEqual(xs.map(compute));
    expect(figures.speculated).toBe(0);
    expect(figures.workerOf.includes(0)).toBe(true);
    expect(figures.millis).toBeGreaterThanOrEqual(600);
  });

  it('runs each task on the worker it prefers when that worker is free, and a task preferring no live worker anywhere', async () => {
    const pool = await startPool({ size: 3 });
    const prefer = [2, 0, 1];
    const tasks = prefer.map((p, x) => ({ payload: { op: 'compute', x, ms: 40 }, prefer: p }));
    const { figures } = await pool.runStage('local', tasks);
    expect(figures.workerOf).toEqual(prefer);
    const { results } = await pool.runStage('nowhere', [{ payload: { op: 'compute', x: 1 }, prefer: 9 }]);
    expect(results).toEqual([compute(1)]);
  });

  it('steals a task preferring a busy worker when nothing else is left', async () => {
    const pool = await startPool({ size: 2, speculation: false });
    const tasks = [0, 1, 2, 3].map((x) => ({ payload: { op: 'compute', x, ms: 30 }, prefer: 0 }));
    const { results, figures } = await pool.runStage('stolen', tasks);
    expect(results).toEqual([0, 1, 2, 3].map(compute));
    expect(figures.workerOf).toContain(1);
  });

  it('runs stages submitted at the same time side by side', async () => {
    const pool = await startPool({ size: 2 });
    const [a, b] = await Promise.all([pool.runStage('a', computeTasks([1, 2, 3], 5)), pool.runStage('b', computeTasks([4, 5], 5))]);
    expect(a.results).toEqual([1, 2, 3].map(compute));
    expect(b.results).toEqual([4, 5].map(compute));
  });

  it('moves a transferable result to the driver', async () => {
    const pool = await startPool({ size: 1 });
    const { results } = await pool.runStage<Uint8Array>('bytes', [{ payload: { op: 'bytes', x: 5 } }]);
    expect([...(results[0] as Uint8Array)]).toEqual([5, 5, 5, 5, 5]);
  });

  it('rejects a running stage with CONTEXT_STOPPED when closed; close() is idempotent and later stages reject', async () => {
    const pool = await startPool({ size: 2 });
    const stage = pool.runStage('long', computeTasks([1, 2, 3], 200));
    await sleep(20);
    const closing = pool.close();
    expect(pool.close()).toBe(closing);
    await expect(stage).rejects.toMatchObject({ code: 'CONTEXT_STOPPED', message: expect.stringContaining('"long"') as unknown });
    await closing;
    await expect(pool.runStage('late', computeTasks([1]))).rejects.toMatchObject({ code: 'CONTEXT_STOPPED' });
  });

  it('rejects bad options and calls out of order with a message saying what to change', async () => {
    expect(() => new WorkerPool({ script, size: 0 })).toThrow(/size must be an integer ≥ 1, got 0/);
    expect(() => new WorkerPool({ script, size: 1, maxAttempts: 0 })).toThrow(RangeError);
    expect(() => new WorkerPool({ script, size: 1, speculation: { quantile: 2 } })).toThrow(/quantile must be in \(0, 1\]/);
    const pool = new WorkerPool({ script, size: 1 });
    track(pool);
    expect(() => pool.runStage('early', [])).toThrow(/await pool.start\(\) first/);
    await pool.start();
    expect(() => pool.runStage('bad', [{ payload: 1, prefer: -1 }])).toThrow(RangeError);
    await expect(pool.start()).rejects.toThrow(/called twice/);
  });
});
