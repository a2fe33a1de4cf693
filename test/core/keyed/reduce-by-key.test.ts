import { describe, expect, it } from 'vitest';
import { foreachBatch, glom, reduceByKey, transform, type DStream, type Key, type Pair } from 'sluice';
import { keyEquals } from 'sluice/extend';
import { runBatches } from 'sluice/testing';
import { expectUserFunctionFailed, rejectionOf, runManually } from '../run-manually.js';
import { sortBatches } from '../sort-records.js';

type Pairs<K extends Key = string> = DStream<Pair<K, number>>;
const sum = (a: number, b: number): number => a + b;

describe('reduceByKey', () => {
  it('reduces the values of each key within every batch, first-seen key first (one partition)', async () => {
    const input = [
      [
        ['a', 1],
        ['b', 2],
        ['a', 3],
        ['c', 4],
        ['b', 5],
      ],
      [['c', 1]],
    ] as Pair<string, number>[][];
    const out = await runBatches(input, (s: Pairs) => s.pipe(reduceByKey(sum)), { numPartitions: 1 });
    expect(out).toEqual([
      [
        ['a', 4],
        ['b', 7],
        ['c', 4],
      ],
      [['c', 1]],
    ]);
  });

  it('reduces each batch on its own: nothing carries over, and only keys present in the batch appear', async () => {
    const input = [[['a', 1]], [['b', 1]], [], [['a', 5]]] as Pair<string, number>[][];
    const out = await runBatches(input, (s: Pairs) => s.pipe(reduceByKey(sum)));
    expect(out).toEqual([[['a', 1]], [['b', 1]], [], [['a', 5]]]);
  });

  it('gives an empty batch for an empty batch', async () => {
    expect(await runBatches([[], []] as Pair<string, number>[][], (s: Pairs) => s.pipe(reduceByKey(sum)))).toEqual([[], []]);
  });

  it('leaves a key with one value as it is, without calling the function', async () => {
    let calls = 0;
    const out = await runBatches([[['a', 1], ['b', 2], ['a', 3]]] as Pair<string, number>[][], (s: Pairs) =>
      s.pipe(
        reduceByKey((a: number, b: number) => {
          calls++;
          return a + b;
        }),
      ),
      { numPartitions: 1 },
    );
    expect(out).toEqual([
      [
        ['a', 4],
        ['b', 2],
      ],
    ]);
    expect(calls).toBe(1);
  });

  it('combines the values of a key spread over several input partitions in arrival order', async () => {
    // An associative but not commutative function shows the order: partial results merge in partition order.
    const input = [
      [
        ['k', 'a'],
        ['k', 'b'],
        ['j', 'x'],
        ['k', 'c'],
        ['k', 'd'],
        ['j', 'y'],
      ],
    ] as Pair<string, string>[][];
    const out = await runBatches(input, (s: DStream<Pair<string, string>>) => s.pipe(reduceByKey((a: string, b: string) => a + b)), { numPartitions: 3 });
    expect(sortBatches(out)).toEqual([
      [
        ['j', 'xy'],
        ['k', 'abcd'],
      ],
    ]);
  });

  it('compares keys by value: array keys, "__proto__", 1 vs "1", -0 and 0, bigints, NaN, booleans', async () => {
    const input = [
      [
        [['card-1', 42], 1],
        ['__proto__', 1],
        ['constructor', 1],
        [['card-1', 42], 1],
        ['__proto__', 1],
        [1, 1],
        ['1', 1],
        [-0, 1],
        [0, 1],
        [10n, 1],
        [10, 1],
        [10n, 1],
        [Number.NaN, 1],
        [Number.NaN, 1],
        [true, 1],
        ['true', 1],
        [['1'], 1],
        [[1], 1],
        [['a', 'b'], 1],
        [['a,b'], 1],
        [['ab'], 1],
        [['a'], 1],
        ['a', 1],
        [['1'], 1],
        ['toString', 1],
        ['hasOwnProperty', 1],
        [[], 1],
        [[], 1],
      ],
    ] as Pair<Key, number>[][];
    const out = await runBatches(input, (s: Pairs<Key>) => s.pipe(reduceByKey(sum)), { numPartitions: 1 });
    expect(out).toEqual([
      [
        [['card-1', 42], 2],
        ['__proto__', 2],
        ['constructor', 1],
        [1, 1],
        ['1', 1],
        [0, 2],
        [10n, 2],
        [10, 1],
        [Number.NaN, 2],
        [true, 1],
        ['true', 1],
        [['1'], 2],
        [[1], 1],
        [['a', 'b'], 1],
        [['a,b'], 1],
        [['ab'], 1],
        [['a'], 1],
        ['a', 1],
        ['toString', 1],
        ['hasOwnProperty', 1],
        [[], 2],
      ],
    ]);
    const zero = out[0]?.find(([k]) => k === 0);
    expect(Object.is(zero?.[0], 0)).toBe(true);
  });

  it('groups array keys holding -0 and 0 together', async () => {
    const input = [
      [
        [['x', -0], 1],
        [['x', 0], 2],
      ],
    ] as Pair<readonly (string | number)[], number>[][];
    const out = await runBatches(input, (s) => s.pipe(reduceByKey(sum)), { numPartitions: 1 });
    expect(out[0]).toHaveLength(1);
    expect(keyEquals(out[0]?.[0]?.[0] ?? [], ['x', 0])).toBe(true);
    expect(out[0]?.[0]?.[1]).toBe(3);
  });

  it('groups equal keys across input partitions whatever the partition count', async () => {
    const input = [
      [
        [['u', 1], 1],
        [2n, 1],
        ['k', 1],
        [['u', 1], 1],
        [2n, 1],
        ['k', 1],
        [-0, 1],
        [0, 1],
      ],
    ] as Pair<Key, number>[][];
    for (const numPartitions of [2, 3, 5]) {
      const out = await runBatches(input, (s: Pairs<Key>) => s.pipe(reduceByKey(sum)), { numPartitions });
      expect(sortBatches(out)).toEqual(
        sortBatches([
          [
            [['u', 1], 2],
            [2n, 2],
            ['k', 2],
            [0, 2],
          ],
        ]),
      );
    }
  });

  it('gives the same multiset with 3 partitions as with 1', async () => {
    const words = 'the quick brown fox jumps over the lazy dog and the fox runs'.split(' ');
    const input = [words.map((w, i): Pair<string, number> => [w, i]), [], words.slice(3).map((w): Pair<string, number> => [w, 1])];
    const one = await runBatches(input, (s: Pairs) => s.pipe(reduceByKey(sum)), { numPartitions: 1 });
    const three = await runBatches(input, (s: Pairs) => s.pipe(reduceByKey(sum)), { numPartitions: 3 });
    expect(sortBatches(three)).toEqual(sortBatches(one));
  });

  it('has as many partitions as its numPartitions option says, each key in exactly one of them', async () => {
    const input = [
      'abcdefghij'.split('').flatMap((k): Pair<string, number>[] => [
        [k, 1],
        [k, 2],
      ]),
    ];
    const partitions = await runBatches(input, (s: Pairs) => s.pipe(reduceByKey(sum, { numPartitions: 4 }), glom()));
    expect(partitions[0]).toHaveLength(4);
    const keys = (partitions[0] ?? []).flatMap((p) => p.map(([k]) => k));
    expect([...keys].sort()).toEqual('abcdefghij'.split(''));
    const counts = await runBatches([[], [['a', 1]]] as Pair<string, number>[][], (s: Pairs) => s.pipe(reduceByKey(sum, { numPartitions: 7 }), transform((batch) => [batch.numPartitions])));
    expect(counts).toEqual([[7], [7]]);
  });

  it('defaults to the context’s defaultParallelism for its partition count', async () => {
    const out = await runBatches([[['a', 1]]] as Pair<string, number>[][], (s: Pairs) => s.pipe(reduceByKey(sum), transform((batch) => [batch.numPartitions])), { numPartitions: 3 });
    expect(out).toEqual([[3]]);
  });

  it('fails the batch naming reduceByKey#id when the function throws, and runs no later batch', async () => {
    const boom = new Error('reduce');
    const seen: Pair<string, number>[][] = [];
    const run = await runManually([[['a', 1], ['a', 2]], [['b', 1], ['b', -1]], [['c', 1], ['c', 1]]] as Pair<string, number>[][], (s: Pairs) =>
      s.pipe(
        reduceByKey((a: number, b: number) => {
          if (b < 0) throw boom;
          return a + b;
        }),
        foreachBatch((records) => void seen.push([...records])),
      ),
    );
    expectUserFunctionFailed(run.error, { operator: /^reduceByKey#\d+$/, batchId: 1, cause: boom });
    expect(seen).toEqual([[['a', 3]]]);
  });

  it('names the operator by its name option in errors', async () => {
    const boom = new Error('reduce');
    const error = await rejectionOf(
      runBatches([[['a', 1], ['a', 2]]] as Pair<string, number>[][], (s: Pairs) =>
        s.pipe(
          reduceByKey(
            (): number => {
              throw boom;
            },
            { name: 'totals' },
          ),
        ),
      ),
    );
    expectUserFunctionFailed(error, { operator: 'totals', batchId: 0, cause: boom });
  });

  it('also fails the batch (merging partial results) when the function throws on values from two partitions', async () => {
    const boom = new Error('merge');
    const error = await rejectionOf(
      runBatches([[['a', 1], ['a', 2]]] as Pair<string, number>[][], (s: Pairs) =>
        s.pipe(
          reduceByKey((): number => {
            throw boom;
          }),
        ),
      { numPartitions: 2 }),
    );
    expectUserFunctionFailed(error, { operator: /^reduceByKey#\d+$/, batchId: 0, cause: boom });
  });

  it('fails the batch naming the operator when a record’s key is not a key (an object)', async () => {
    const error = await rejectionOf(
      runBatches([[[{ id: 1 }, 1]]] as unknown as Pair<string, number>[][], (s: Pairs) => s.pipe(reduceByKey(sum)), { numPartitions: 1 }),
    );
    expect(error).toMatchObject({ code: 'USER_FUNCTION_FAILED', operator: expect.stringMatching(/^reduceByKey#\d+$/) as unknown, batchId: 0 });
    expect((error as Error).cause).toBeInstanceOf(TypeError);
  });

  it('throws a RangeError at construction for a numPartitions that is not a positive integer', () => {
    for (const numPartitions of [0, -1, 2.5, Number.NaN]) expect(() => reduceByKey(sum, { numPartitions })).toThrow(RangeError);
  });
});
