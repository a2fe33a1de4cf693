import { describe, expect, it } from 'vitest';
import { combineByKey, foreachBatch, glom, transform, type DStream, type Pair } from 'sluice';
import type { Combiner } from 'sluice/extend';
import { runBatches } from 'sluice/testing';
import { expectUserFunctionFailed, rejectionOf, runManually } from '../run-manually.js';
import { sortBatches } from '../sort-records.js';

type Pairs = DStream<Pair<string, number>>;

interface Mean {
  readonly sum: number;
  readonly n: number;
}

const mean: Combiner<number, Mean> = {
  create: (v) => ({ sum: v, n: 1 }),
  mergeValue: (c, v) => ({ sum: c.sum + v, n: c.n + 1 }),
  mergeCombiners: (a, b) => ({ sum: a.sum + b.sum, n: a.n + b.n }),
};

describe('combineByKey', () => {
  it('combines the values of each key within every batch (per-key sum and count)', async () => {
    const input = [
      [
        ['a', 1],
        ['b', 10],
        ['a', 3],
      ],
      [['a', 5]],
    ] as Pair<string, number>[][];
    const out = await runBatches(input, (s: Pairs) => s.pipe(combineByKey(mean)), { numPartitions: 1 });
    expect(out).toEqual([
      [
        ['a', { sum: 4, n: 2 }],
        ['b', { sum: 10, n: 1 }],
      ],
      [['a', { sum: 5, n: 1 }]],
    ]);
  });

  it('gives an empty batch for an empty batch', async () => {
    expect(await runBatches([[], []] as Pair<string, number>[][], (s: Pairs) => s.pipe(combineByKey(mean)))).toEqual([[], []]);
  });

  it('creates a combiner per key per input partition, adds values with mergeValue and merges partitions with mergeCombiners (Spark’s contract)', async () => {
    const calls: string[] = [];
    const logged: Combiner<number, number[]> = {
      create: (v) => {
        calls.push(`create ${v}`);
        return [v];
      },
      mergeValue: (c, v) => {
        calls.push(`mergeValue ${c.join('+')} ${v}`);
        return [...c, v];
      },
      mergeCombiners: (a, b) => {
        calls.push(`mergeCombiners ${a.join('+')} ${b.join('+')}`);
        return [...a, ...b];
      },
    };
    // Input partitions: [a1, a2] and [a3, b4]; one output partition.
    const input = [
      [
        ['a', 1],
        ['a', 2],
        ['a', 3],
        ['b', 4],
      ],
    ] as Pair<string, number>[][];
    const out = await runBatches(input, (s: Pairs) => s.pipe(combineByKey(logged, { numPartitions: 1 })), { numPartitions: 2 });
    expect(out).toEqual([
      [
        ['a', [1, 2, 3]],
        ['b', [4]],
      ],
    ]);
    expect(calls).toEqual(['create 1', 'mergeValue 1 2', 'create 3', 'create 4', 'mergeCombiners 1+2 3']);
  });

  it('gives the same multiset with 3 partitions as with 1', async () => {
    const input = [
      [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5].map((n, i): Pair<string, number> => [`k${i % 4}`, n]),
      [[ 'k9', 1 ]] as Pair<string, number>[],
    ];
    const one = await runBatches(input, (s: Pairs) => s.pipe(combineByKey(mean)), { numPartitions: 1 });
    const three = await runBatches(input, (s: Pairs) => s.pipe(combineByKey(mean)), { numPartitions: 3 });
    expect(sortBatches(three)).toEqual(sortBatches(one));
  });

  it('has as many partitions as its numPartitions option says', async () => {
    const out = await runBatches([[['a', 1], ['b', 2]], []] as Pair<string, number>[][], (s: Pairs) => s.pipe(combineByKey(mean, { numPartitions: 3 }), transform((batch) => [batch.numPartitions])));
    expect(out).toEqual([[3], [3]]);
    const partitions = await runBatches([[['a', 1]]] as Pair<string, number>[][], (s: Pairs) => s.pipe(combineByKey(mean, { numPartitions: 6 }), glom()));
    expect(partitions[0]).toHaveLength(6);
  });

  it('fails the batch naming combineByKey#id when any of the three functions throws', async () => {
    const boom = new Error('combine');
    const throwing = (which: keyof Combiner<number, Mean>): Combiner<number, Mean> => ({
      ...mean,
      [which]: () => {
        throw boom;
      },
    });
    const input = [[], [['a', 1], ['a', 2], ['a', 3]]] as Pair<string, number>[][];
    for (const which of ['create', 'mergeValue', 'mergeCombiners'] as const) {
      const error = await rejectionOf(runBatches(input, (s: Pairs) => s.pipe(combineByKey(throwing(which))), { numPartitions: 2 }));
      expectUserFunctionFailed(error, { operator: /^combineByKey#\d+$/, batchId: 1, cause: boom });
    }
  });

  it('runs no batch after the failing one', async () => {
    const boom = new Error('combine');
    const seen: Pair<string, Mean>[][] = [];
    const run = await runManually([[['a', 1]], [['a', -1]], [['a', 2]]] as Pair<string, number>[][], (s: Pairs) =>
      s.pipe(
        combineByKey({
          ...mean,
          create: (v: number) => {
            if (v < 0) throw boom;
            return { sum: v, n: 1 };
          },
        }),
        foreachBatch((records) => void seen.push([...records])),
      ),
    );
    expectUserFunctionFailed(run.error, { operator: /^combineByKey#\d+$/, batchId: 1, cause: boom });
    expect(seen).toEqual([[['a', { sum: 1, n: 1 }]]]);
  });

  it('throws a RangeError at construction for a bad numPartitions', () => {
    expect(() => combineByKey(mean, { numPartitions: -2 })).toThrow(RangeError);
  });
});
