import { describe, expect, it } from 'vitest';
import { count, countByValue, reduce, transform } from 'sluice';
import { runBatches } from 'sluice/testing';
import { expectUserFunctionFailed, rejectionOf } from '../run-manually.js';
import { sortBatches } from '../sort-records.js';

describe('count', () => {
  it('gives one record per batch: the number of records in it', async () => {
    expect(await runBatches([['a', 'b', 'c'], ['d'], ['e', 'e']], (s) => s.pipe(count()))).toEqual([[3], [1], [2]]);
  });

  it('gives [0] for an empty batch (never an empty result)', async () => {
    expect(await runBatches([[], [1], []], (s) => s.pipe(count()))).toEqual([[0], [1], [0]]);
    expect(await runBatches([[1]], (s) => s.pipe(count()), { numBatches: 3 })).toEqual([[1], [0], [0]]);
  });

  it('counts records in every partition', async () => {
    expect(await runBatches([[1, 2, 3, 4, 5, 6, 7]], (s) => s.pipe(count()), { numPartitions: 4 })).toEqual([[7]]);
  });
});

describe('countByValue', () => {
  it('counts each distinct record of a batch, first seen first (one partition)', async () => {
    const out = await runBatches([['a', 'b', 'a', 'c', 'a'], ['b']], (s) => s.pipe(countByValue()), { numPartitions: 1 });
    expect(out).toEqual([
      [
        ['a', 3],
        ['b', 1],
        ['c', 1],
      ],
      [['b', 1]],
    ]);
  });

  it('counts per batch only: nothing carries over between batches', async () => {
    const out = await runBatches([['x', 'x'], ['x'], []], (s) => s.pipe(countByValue()));
    expect(out).toEqual([[['x', 2]], [['x', 1]], []]);
  });

  it('gives an empty batch for an empty batch', async () => {
    expect(await runBatches([[], []], (s) => s.pipe(countByValue()))).toEqual([[], []]);
  });

  it('compares records by value: arrays, 1 vs "1", -0 and 0, bigints, "__proto__"', async () => {
    const input = [[['card-1', 42], ['card-1', 42], 1, '1', -0, 0, 10n, 10n, '__proto__', 'constructor', '__proto__', 10]] as const;
    const out = await runBatches(input, (s) => s.pipe(countByValue()), { numPartitions: 1 });
    expect(out).toEqual([
      [
        [['card-1', 42], 2],
        [1, 1],
        ['1', 1],
        [0, 2],
        [10n, 2],
        ['__proto__', 2],
        ['constructor', 1],
        [10, 1],
      ],
    ]);
  });

  it('gives the same multiset with 3 partitions as with 1', async () => {
    const input = [
      ['a', 'b', 'c', 'd', 'a', 'e', 'f', 'a', 'b', 'g'],
      ['z', 'z', 'y'],
    ];
    const one = await runBatches(input, (s) => s.pipe(countByValue()), { numPartitions: 1 });
    const three = await runBatches(input, (s) => s.pipe(countByValue()), { numPartitions: 3 });
    expect(sortBatches(three)).toEqual(sortBatches(one));
  });

  it('has as many partitions as its numPartitions option says', async () => {
    const out = await runBatches([['a', 'b'], []], (s) => s.pipe(countByValue({ numPartitions: 5 }), transform((batch) => [batch.numPartitions])));
    expect(out).toEqual([[5], [5]]);
  });

  it('throws a RangeError at construction for a bad numPartitions (regression: it used to wait for the stream)', () => {
    expect(() => countByValue({ numPartitions: 0 })).toThrow(RangeError);
  });
});

describe('reduce', () => {
  it('reduces every batch to one record', async () => {
    expect(await runBatches([[1, 2, 3], [10], [4, 5]], (s) => s.pipe(reduce((a: number, b: number) => a + b)))).toEqual([[6], [10], [9]]);
  });

  it('gives an empty batch for an empty batch (as in Spark)', async () => {
    expect(await runBatches([[], [1, 1], []], (s) => s.pipe(reduce((a: number, b: number) => a + b)))).toEqual([[], [2], []]);
  });

  it('returns a single record as it is, without calling the function', async () => {
    let calls = 0;
    const out = await runBatches([['only']], (s) =>
      s.pipe(
        reduce((a: string, b: string) => {
          calls++;
          return a + b;
        }),
      ),
    );
    expect(out).toEqual([['only']]);
    expect(calls).toBe(0);
  });

  it('reduces across every partition', async () => {
    expect(await runBatches([[3, 8, 1, 9, 2]], (s) => s.pipe(reduce((a: number, b: number) => Math.max(a, b))), { numPartitions: 4 })).toEqual([[9]]);
  });

  it('fails the batch naming reduce#id when the function throws', async () => {
    const boom = new RangeError('overflow');
    const error = await rejectionOf(
      runBatches([[1], [1, 2]], (s) =>
        s.pipe(
          reduce((_a: number, _b: number): number => {
            throw boom;
          }),
        ),
      ),
    );
    expectUserFunctionFailed(error, { operator: /^reduce#\d+$/, batchId: 1, cause: boom });
  });
});
