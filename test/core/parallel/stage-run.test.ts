import { describe, expect, it } from 'vitest';
import { PendingTasks, type PoolTask } from '../../../core/parallel/stage-run.js';
import { inputSize } from '../../../core/parallel/task-wire.js';

/** Every task `take` gives until it gives -1. */
function drain(take: () => number): number[] {
  const order: number[] = [];
  for (let task = take(); task >= 0; task = take()) order.push(task);
  return order;
}

describe('PendingTasks', () => {
  it('hands out larger tasks first (longest processing time first), ties and unsized tasks in their order', () => {
    const tasks: PoolTask[] = [{ payload: 0, size: 10 }, { payload: 1, size: 300 }, { payload: 2 }, { payload: 3, size: 10 }, { payload: 4, size: 50 }];
    const pending = new PendingTasks(tasks);
    expect(drain(() => pending.takeUnclaimed(() => true))).toEqual([1, 4, 0, 3, 2]);
  });

  it('keeps prefer first: sizes order the tasks of each preferred worker, never move a task to another worker', () => {
    const tasks: PoolTask[] = [
      { payload: 0, size: 1, prefer: 0 },
      { payload: 1, size: 900 },
      { payload: 2, size: 5, prefer: 0 },
      { payload: 3, size: 7, prefer: 1 },
      { payload: 4, size: 2, prefer: 1 },
    ];
    const pending = new PendingTasks(tasks);
    expect(drain(() => pending.takeOwn(0))).toEqual([2, 0]);
    expect(drain(() => pending.takeOwn(1))).toEqual([3, 4]);
    expect(drain(() => pending.takeUnclaimed(() => true))).toEqual([1]);
  });

  it('keeps the given order when no task has a size', () => {
    const pending = new PendingTasks([3, 1, 2].map((payload) => ({ payload })));
    expect(drain(() => pending.steal())).toEqual([0, 1, 2]);
  });
});

describe('inputSize', () => {
  it("counts a task input's records: an array, its records, items or keys, summed over buckets", () => {
    expect(inputSize({ records: [1, 2, 3], numPartitions: 4 })).toBe(3);
    expect(inputSize([{ keys: [1, 2], values: [3, 4] }, { keys: [], values: [] }, { keys: [9], values: [1] }])).toBe(3);
    expect(inputSize({ store: undefined, items: [{}, {}] })).toBe(2);
    expect(inputSize([[1, 2], [3]])).toBe(3);
    expect(inputSize(7)).toBeUndefined();
    expect(inputSize({ other: [1] })).toBeUndefined();
  });
});
