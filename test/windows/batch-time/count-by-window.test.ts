import { describe, expect, it } from 'vitest';
import { runBatches } from 'sluice/testing';
import { countByWindow } from 'sluice/windows';

describe('countByWindow', () => {
  it('counts the records of each window, down to 0 once records have been seen (Spark’s countByWindow test)', async () => {
    const input = [[1], [1], [1, 2], [0], [], []];
    expect(await runBatches(input, (s) => s.pipe(countByWindow(2000, 1000)))).toEqual([[1], [2], [3], [3], [1], [0]]);
  });

  it('gives empty batches for the windows before the first record, as Spark does', async () => {
    const input = [[], [], ['a'], [], [], []];
    expect(await runBatches(input, (s) => s.pipe(countByWindow(2000, 1000)))).toEqual([[], [], [1], [1], [0], [0]]);
  });

  it('counts every slide over the whole length', async () => {
    const input = [['a'], ['b', 'c'], [], ['d'], ['e', 'f', 'g'], []];
    expect(await runBatches(input, (s) => s.pipe(countByWindow('3s', '2s')), { numBatches: 8 })).toEqual([[3], [3], [4], [0]]);
  });

  it('throws a RangeError when the window is not a multiple of the batch interval', async () => {
    await expect(runBatches([[1]], (s) => s.pipe(countByWindow(2000, 1500)))).rejects.toThrow(/countByWindow: the slide 1500 ms must be a multiple of the batch interval/);
  });
});
