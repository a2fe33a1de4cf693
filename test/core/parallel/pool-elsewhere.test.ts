import { afterEach, describe, expect, it } from 'vitest';
import { WorkerPool, type PoolTask } from '../../../core/parallel/worker-pool.js';
import { compute } from './fixtures/compute.mjs';

/*
 * A task's `elsewhere` payload (keyed state that stays local): what a worker other than the one
 * the task prefers gets when it takes the task. The workers run fixtures/task-worker.mjs.
 */

const script = new URL('./fixtures/task-worker.mjs', import.meta.url);
const pools: WorkerPool[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((pool) => pool.close()));
});

describe('WorkerPool elsewhere', () => {
  it('sends the preferred worker the payload and any other worker that takes the task its elsewhere payload', async () => {
    const pool = new WorkerPool({ script, size: 2 });
    pools.push(pool);
    await pool.start();
    let built = 0;
    // Every task prefers worker 0; worker 1, free, steals some.
    const tasks = Array.from({ length: 8 }, (_, i): PoolTask => ({
      payload: { op: 'compute', x: i, ms: 40 },
      prefer: 0,
      elsewhere: () => {
        built++;
        return { op: 'compute', x: 1000 + i, ms: 40 };
      },
    }));
    const { results, figures } = await pool.runStage<ReturnType<typeof compute>>('elsewhere', tasks);
    expect(results).toEqual(figures.workerOf.map((worker, i) => compute(worker === 0 ? i : 1000 + i)));
    const stolen = figures.workerOf.filter((worker) => worker === 1).length;
    expect(stolen).toBeGreaterThan(0);
    expect(built).toBe(stolen);
  }, 30_000);
});
