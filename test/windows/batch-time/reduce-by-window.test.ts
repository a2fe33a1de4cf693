import { describe, expect, it } from 'vitest';
import { runBatches } from 'sluice/testing';
import { reduceByWindow } from 'sluice/windows';
import { expectUserFunctionFailed, rejectionOf } from '../../core/run-manually.js';

const sum = (a: number, b: number): number => a + b;
const minus = (a: number, b: number): number => a - b;
const input = [[1], [2, 3], [], [], [4]];

describe('reduceByWindow', () => {
  it('reduces each window to one record, and an empty window to an empty batch, without an inverse', async () => {
    expect(await runBatches(input, (s) => s.pipe(reduceByWindow(sum, undefined, 2000, 1000)), { numBatches: 7 })).toEqual([[1], [6], [5], [], [4], [4], []]);
  });

  it('with an inverse, keeps giving a record once one has been seen (0 for an emptied sum), as Spark does', async () => {
    expect(await runBatches(input, (s) => s.pipe(reduceByWindow(sum, minus, 2000, 1000)), { numBatches: 7 })).toEqual([[1], [6], [5], [0], [4], [4], [0]]);
    expect(await runBatches([[], [], [7]], (s) => s.pipe(reduceByWindow(sum, minus, 2000, 1000)))).toEqual([[], [], [7]]);
  });

  it('reduces the records in arrival order (batches oldest first) without an inverse', async () => {
    const words = [['a', 'b'], ['c'], ['d', 'e'], ['f']];
    const out = await runBatches(words, (s) => s.pipe(reduceByWindow((a: string, b: string) => a + b, undefined, 3000, 1000)), { numPartitions: 2 });
    expect(out).toEqual([['ab'], ['abc'], ['abcde'], ['cdef']]);
  });

  it('slides by several batches with the same result with or without the inverse', async () => {
    const longer = [[1], [2], [3], [4], [5], [6], [], []];
    const expected = [[3], [10], [18], [11]];
    expect(await runBatches(longer, (s) => s.pipe(reduceByWindow(sum, undefined, 4000, 2000)))).toEqual(expected);
    expect(await runBatches(longer, (s) => s.pipe(reduceByWindow(sum, minus, 4000, 2000)))).toEqual(expected);
  });

  it('fails the batch naming reduceByWindow#id when reduce or inverse throws', async () => {
    const boom = new Error('boom');
    const throwing = (): number => {
      throw boom;
    };
    expectUserFunctionFailed(await rejectionOf(runBatches([[1, 2]], (s) => s.pipe(reduceByWindow(throwing, undefined, 1000, 1000)))), {
      operator: /^reduceByWindow#\d+$/,
      batchId: 0,
      cause: boom,
    });
    expectUserFunctionFailed(await rejectionOf(runBatches([[1], [2], [3]], (s) => s.pipe(reduceByWindow(sum, throwing, 2000, 1000)))), {
      operator: /^reduceByWindow#\d+$/,
      batchId: 2,
      cause: boom,
    });
  });
});
