import { describe, expect, it } from 'vitest';
import { glom, type Key } from 'sluice';
import { countByValueAndWindow } from 'sluice/windows';
import { runBatches } from 'sluice/testing';
import { rejectionOf } from '../../core/run-manually.js';
import { sortBatches } from '../../core/sort-records.js';

describe('countByValueAndWindow', () => {
  it('counts each distinct record over the window (Spark’s countByValueAndWindow test)', async () => {
    const out = await runBatches([['a'], ['b', 'b'], ['a', 'b']], (s) => s.pipe(countByValueAndWindow(2000, 1000)));
    expect(sortBatches(out)).toEqual([
      [['a', 1]],
      [
        ['a', 1],
        ['b', 2],
      ],
      [
        ['a', 1],
        ['b', 3],
      ],
    ]);
  });

  it('drops records whose count fell to 0, down to an empty batch', async () => {
    const out = await runBatches([['a'], ['b'], [], []], (s) => s.pipe(countByValueAndWindow(2000)), { numPartitions: 1 });
    expect(out).toEqual([[['a', 1]], [['a', 1], ['b', 1]], [['b', 1]], []]);
  });

  it('compares records by value: array records, 1 vs "1", -0 and 0', async () => {
    const input: Key[][] = [[['u', 1], 1, '1', -0], [['u', 1], 0, 1]];
    const out = await runBatches(input, (s) => s.pipe(countByValueAndWindow(2000)), { numPartitions: 1 });
    expect(out[1]).toEqual([
      [['u', 1], 2],
      [1, 2],
      ['1', 1],
      [0, 2],
    ]);
  });

  it('hash-partitions the counts into numPartitions', async () => {
    const out = await runBatches(['abcdefgh'.split('')], (s) => s.pipe(countByValueAndWindow(2000, 1000, { numPartitions: 4 }), glom()));
    expect(out[0]).toHaveLength(4);
    expect(out[0]?.flat()).toHaveLength(8);
  });

  it('fails the batch naming the operator when a record is not a key', async () => {
    const error = await rejectionOf(runBatches([[{ id: 1 }]] as unknown as string[][], (s) => s.pipe(countByValueAndWindow(1000))));
    expect(error).toMatchObject({ code: 'USER_FUNCTION_FAILED', operator: expect.stringMatching(/^countByValueAndWindow#\d+$/) as unknown, batchId: 0 });
  });
});
