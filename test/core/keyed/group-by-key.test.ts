import { describe, expect, it } from 'vitest';
import { glom, groupByKey, transform, type DStream, type Key, type Pair } from 'sluice';
import { runBatches } from 'sluice/testing';
import { sortBatches } from '../sort-records.js';

type Pairs<K extends Key = string> = DStream<Pair<K, number>>;

describe('groupByKey', () => {
  it('groups the values of each key within every batch, in arrival order, first-seen key first (one partition)', async () => {
    const input = [
      [
        ['a', 1],
        ['b', 2],
        ['a', 3],
        ['a', 1],
      ],
      [['b', 9]],
    ] as Pair<string, number>[][];
    const out = await runBatches(input, (s: Pairs) => s.pipe(groupByKey()), { numPartitions: 1 });
    expect(out).toEqual([
      [
        ['a', [1, 3, 1]],
        ['b', [2]],
      ],
      [['b', [9]]],
    ]);
  });

  it('keeps arrival order of values spread over several input partitions', async () => {
    const input = [
      [1, 2, 3, 4, 5, 6, 7].map((n): Pair<string, number> => [n % 2 === 0 ? 'even' : 'odd', n]),
    ];
    const out = await runBatches(input, (s: Pairs) => s.pipe(groupByKey()), { numPartitions: 3 });
    expect(sortBatches(out)).toEqual([
      [
        ['even', [2, 4, 6]],
        ['odd', [1, 3, 5, 7]],
      ],
    ]);
  });

  it('groups each batch on its own and gives an empty batch for an empty batch', async () => {
    const input = [[['a', 1]], [], [['a', 2]]] as Pair<string, number>[][];
    expect(await runBatches(input, (s: Pairs) => s.pipe(groupByKey()))).toEqual([[['a', [1]]], [], [['a', [2]]]]);
  });

  it('compares keys by value: array keys, "__proto__" and "constructor", 1 vs "1", -0 and 0, bigints', async () => {
    const input = [
      [
        [['card-1', 42], 1],
        ['__proto__', 2],
        [['card-1', 42], 3],
        ['constructor', 4],
        [1, 5],
        ['1', 6],
        [-0, 7],
        [0, 8],
        [5n, 9],
        [5n, 10],
        ['__proto__', 11],
      ],
    ] as Pair<Key, number>[][];
    const out = await runBatches(input, (s: Pairs<Key>) => s.pipe(groupByKey()), { numPartitions: 1 });
    expect(out).toEqual([
      [
        [['card-1', 42], [1, 3]],
        ['__proto__', [2, 11]],
        ['constructor', [4]],
        [1, [5]],
        ['1', [6]],
        [0, [7, 8]],
        [5n, [9, 10]],
      ],
    ]);
  });

  it('gives the same multiset with 3 partitions as with 1', async () => {
    const input = [
      'abracadabra'.split('').map((c, i): Pair<string, number> => [c, i]),
      'zz'.split('').map((c, i): Pair<string, number> => [c, i]),
    ];
    const one = await runBatches(input, (s: Pairs) => s.pipe(groupByKey()), { numPartitions: 1 });
    const three = await runBatches(input, (s: Pairs) => s.pipe(groupByKey()), { numPartitions: 3 });
    expect(sortBatches(three)).toEqual(sortBatches(one));
  });

  it('has as many partitions as its numPartitions option says', async () => {
    const out = await runBatches([[['a', 1], ['b', 2], ['c', 3]], []] as Pair<string, number>[][], (s: Pairs) => s.pipe(groupByKey({ numPartitions: 4 }), transform((batch) => [batch.numPartitions])));
    expect(out).toEqual([[4], [4]]);
    const partitions = await runBatches([[['a', 1], ['b', 2], ['a', 3]]] as Pair<string, number>[][], (s: Pairs) => s.pipe(groupByKey({ numPartitions: 2 }), glom()));
    expect(partitions[0]).toHaveLength(2);
  });

  it('throws a RangeError at construction for a bad numPartitions', () => {
    expect(() => groupByKey({ numPartitions: 0 })).toThrow(RangeError);
  });
});
