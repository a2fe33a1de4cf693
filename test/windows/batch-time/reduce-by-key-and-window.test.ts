import { describe, expect, it } from 'vitest';
import { glom, reduceByKey, type DStream, type Pair } from 'sluice';
import { reduceByKeyAndWindow } from 'sluice/windows';
import { runBatches } from 'sluice/testing';
import { expectUserFunctionFailed, rejectionOf } from '../../core/run-manually.js';
import { sortBatches } from '../../core/sort-records.js';

type Pairs = DStream<Pair<string, number>>;
type Input = Pair<string, number>[][];
const sum = (a: number, b: number): number => a + b;
const minus = (a: number, b: number): number => a - b;
const nonZero = ([, n]: Pair<string, number>): boolean => n !== 0;

/** Runs reduceByKeyAndWindow with and without the inverse, one partition (outputs in key order). */
async function both(input: Input, length = 2000, slide = 1000, numBatches?: number): Promise<{ full: Pair<string, number>[][]; incremental: Pair<string, number>[][] }> {
  const options = { numPartitions: 1, ...(numBatches === undefined ? {} : { numBatches }) };
  const full = await runBatches(input, (s: Pairs) => s.pipe(reduceByKeyAndWindow(sum, undefined, length, slide)), options);
  const incremental = await runBatches(input, (s: Pairs) => s.pipe(reduceByKeyAndWindow(sum, minus, length, slide)), options);
  return { full, incremental };
}

const bigInput = [
  [['a', 1]],
  [['a', 1], ['b', 1]],
  [['a', 1], ['b', 1], ['c', 1]],
  [['a', 1], ['b', 1]],
  [['a', 1]],
  [],
  [['a', 1]],
  [['a', 1], ['b', 1]],
  [['a', 1], ['b', 1], ['c', 1]],
  [['a', 1], ['b', 1]],
  [['a', 1]],
  [],
] as Input;

const bigReduceOutput = [
  [['a', 1]],
  [['a', 2], ['b', 1]],
  [['a', 2], ['b', 2], ['c', 1]],
  [['a', 2], ['b', 2], ['c', 1]],
  [['a', 2], ['b', 1]],
  [['a', 1]],
  [['a', 1]],
  [['a', 2], ['b', 1]],
  [['a', 2], ['b', 2], ['c', 1]],
  [['a', 2], ['b', 2], ['c', 1]],
  [['a', 2], ['b', 1]],
  [['a', 1]],
];

describe('reduceByKeyAndWindow', () => {
  it('reduces the values of each key over the window (basic reduction)', async () => {
    const { full, incremental } = await both([[['a', 1], ['a', 3]]]);
    expect(full).toEqual([[['a', 4]]]);
    expect(incremental).toEqual([[['a', 4]]]);
  });

  it('adds a new value of a key already in the window, and a new key', async () => {
    const { full, incremental } = await both([[['a', 1]], [['a', 1], ['b', 1]]]);
    const expected = [[['a', 1]], [['a', 2], ['b', 1]]];
    expect(full).toEqual(expected);
    expect(incremental).toEqual(expected);
  });

  it('drops a key whose values left the window; with an inverse and no filter it stays at zero, as in Spark', async () => {
    const { full, incremental } = await both([[['a', 1]], [['a', 1]], [], []]);
    expect(full).toEqual([[['a', 1]], [['a', 2]], [['a', 1]], []]);
    expect(incremental).toEqual([[['a', 1]], [['a', 2]], [['a', 1]], [['a', 0]]]);
  });

  it('slides by several batches (length 4 batches, slide 2), with or without the inverse', async () => {
    const input = [[['a', 1]], [['a', 2]], [['a', 3]], [['a', 4]], [['a', 5]], [['a', 6]], [], []] as Input;
    const { full, incremental } = await both(input, 4000, 2000);
    const expected = [[['a', 3]], [['a', 10]], [['a', 18]], [['a', 11]]];
    expect(full).toEqual(expected);
    expect(incremental).toEqual(expected);
  });

  it('gives Spark’s outputs on its big test: zeros kept with the inverse alone, dropped with a filter', async () => {
    const { full, incremental } = await both(bigInput);
    expect(full).toEqual(bigReduceOutput);
    expect(sortBatches(incremental)).toEqual([
      [['a', 1]],
      [['a', 2], ['b', 1]],
      [['a', 2], ['b', 2], ['c', 1]],
      [['a', 2], ['b', 2], ['c', 1]],
      [['a', 2], ['b', 1], ['c', 0]],
      [['a', 1], ['b', 0], ['c', 0]],
      [['a', 1], ['b', 0], ['c', 0]],
      [['a', 2], ['b', 1], ['c', 0]],
      [['a', 2], ['b', 2], ['c', 1]],
      [['a', 2], ['b', 2], ['c', 1]],
      [['a', 2], ['b', 1], ['c', 0]],
      [['a', 1], ['b', 0], ['c', 0]],
    ]);
    const filtered = await runBatches(bigInput, (s: Pairs) => s.pipe(reduceByKeyAndWindow(sum, minus, 2000, 1000, { filter: nonZero })), { numPartitions: 1 });
    expect(filtered).toEqual(bigReduceOutput);
  });

  it('holds in the first windows the batches that exist', async () => {
    const input = [[['a', 1]], [['a', 10]], [['a', 100]], [['a', 1000]]] as Input;
    const { full, incremental } = await both(input, 3000, 1000);
    const expected = [[['a', 1]], [['a', 11]], [['a', 111]], [['a', 1110]]];
    expect(full).toEqual(expected);
    expect(incremental).toEqual(expected);
  });

  it('is exact when the slide is longer than the window (values entering and leaving between slides)', async () => {
    const input = [[['a', 1]], [['a', 2], ['b', 5]], [['a', 4]], [['b', 8]], [['a', 16]], [['c', 1]]] as Input;
    const { full, incremental } = await both(input, 1000, 3000);
    expect(full).toEqual([[['a', 4]], [['c', 1]]]);
    expect(incremental).toEqual([
      [
        ['a', 4],
        ['b', 0],
      ],
      [
        ['a', 0],
        ['b', 0],
        ['c', 1],
      ],
    ]);
  });

  it('orders keys like reduceByKey over the window’s records without an inverse: by partition, first seen first', async () => {
    const input = [[['x', 1], ['y', 1]], [['z', 1], ['x', 1]], [['y', 1], ['w', 1]]] as Input;
    const windowed = await runBatches(input, (s: Pairs) => s.pipe(reduceByKeyAndWindow(sum, undefined, 2000)), { numPartitions: 3 });
    const reduced = await runBatches([input.slice(0, 1).flat(), input.slice(0, 2).flat(), input.slice(1, 3).flat()], (s: Pairs) => s.pipe(reduceByKey(sum)), { numPartitions: 3 });
    expect(windowed).toEqual(reduced);
  });

  it('orders keys with an inverse as the previous window’s keys, then new keys first seen first', async () => {
    const input = [[['x', 1], ['y', 1]], [['z', 1], ['x', 1]], [['w', 1], ['y', 1]]] as Input;
    const out = await runBatches(input, (s: Pairs) => s.pipe(reduceByKeyAndWindow(sum, minus, 2000, 1000, { filter: nonZero })), { numPartitions: 1 });
    expect(out).toEqual([
      [
        ['x', 1],
        ['y', 1],
      ],
      [
        ['x', 2],
        ['y', 1],
        ['z', 1],
      ],
      [
        ['x', 1],
        ['y', 1],
        ['z', 1],
        ['w', 1],
      ],
    ]);
  });

  it('hash-partitions its result into numPartitions (default: the context’s defaultParallelism)', async () => {
    const input = ['abcdefgh'.split('').map((k): Pair<string, number> => [k, 1])];
    for (const inverse of [undefined, minus]) {
      const sized = await runBatches(input, (s: Pairs) => s.pipe(reduceByKeyAndWindow(sum, inverse, 2000, 1000, { numPartitions: 4 }), glom()));
      expect(sized[0]).toHaveLength(4);
      const byDefault = await runBatches(input, (s: Pairs) => s.pipe(reduceByKeyAndWindow(sum, inverse, 2000), glom()), { numPartitions: 3 });
      expect(byDefault[0]).toHaveLength(3);
    }
  });

  it('fails the batch naming reduceByKeyAndWindow#id when reduce throws', async () => {
    const boom = new Error('reduce');
    for (const inverse of [undefined, minus]) {
      const error = await rejectionOf(
        runBatches([[['a', 1]], [['a', -1]]] as Input, (s: Pairs) =>
          s.pipe(
            reduceByKeyAndWindow(
              (a: number, b: number) => {
                if (b < 0) throw boom;
                return a + b;
              },
              inverse,
              2000,
            ),
          ),
        ),
      );
      expectUserFunctionFailed(error, { operator: /^reduceByKeyAndWindow#\d+$/, batchId: 1, cause: boom });
    }
  });

  it('fails the batch naming the operator by its name when the inverse or the filter throws', async () => {
    const boom = new Error('inverse');
    const throwing = (): number => {
      throw boom;
    };
    const input = [[['a', 1]], [], []] as Input;
    const inverseError = await rejectionOf(runBatches(input, (s: Pairs) => s.pipe(reduceByKeyAndWindow(sum, throwing, 2000, 1000, { name: 'totals' }))));
    expectUserFunctionFailed(inverseError, { operator: 'totals', batchId: 2, cause: boom });
    const filterError = await rejectionOf(runBatches(input, (s: Pairs) => s.pipe(reduceByKeyAndWindow(sum, minus, 2000, 1000, { filter: throwing as never }))));
    expectUserFunctionFailed(filterError, { operator: /^reduceByKeyAndWindow#\d+$/, batchId: 0, cause: boom });
  });

  it('throws a RangeError at once for a bad numPartitions or duration, and when applied off the batch interval’s multiples', async () => {
    for (const numPartitions of [0, -1, 2.5]) expect(() => reduceByKeyAndWindow(sum, minus, 2000, 1000, { numPartitions })).toThrow(RangeError);
    expect(() => reduceByKeyAndWindow(sum, minus, 'later')).toThrow(RangeError);
    const error = await rejectionOf(runBatches([[]] as Input, (s: Pairs) => s.pipe(reduceByKeyAndWindow(sum, minus, 2500))));
    expect(error).toBeInstanceOf(RangeError);
    expect((error as Error).message).toMatch(/reduceByKeyAndWindow: the window length 2500 ms must be a multiple of the batch interval \(1000 ms\)/);
  });
});
