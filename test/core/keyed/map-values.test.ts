import { describe, expect, it } from 'vitest';
import { glom, mapValues, reduceByKey, type DStream, type Pair } from 'sluice';
import { runBatches } from 'sluice/testing';
import { expectUserFunctionFailed, rejectionOf } from '../run-manually.js';
import { sortBatches } from '../sort-records.js';

type Pairs = DStream<Pair<string, number>>;

describe('mapValues', () => {
  it('applies the function to every value, keeping keys and order', async () => {
    const out = await runBatches(
      [
        [
          ['a', 1],
          ['b', 2],
          ['a', 3],
        ],
        [],
        [['c', 4]],
      ] as Pair<string, number>[][],
      (s: Pairs) => s.pipe(mapValues((n: number) => n * 10)),
    );
    expect(out).toEqual([
      [
        ['a', 10],
        ['b', 20],
        ['a', 30],
      ],
      [],
      [['c', 40]],
    ]);
  });

  it('gives an empty batch for an empty batch', async () => {
    expect(await runBatches([[], []] as Pair<string, number>[][], (s: Pairs) => s.pipe(mapValues(String)))).toEqual([[], []]);
  });

  it('leaves keys untouched: array, bigint, "__proto__" keys come out as they went in', async () => {
    const input = [
      [
        [['card-1', 42], 1],
        [10n, 2],
        ['__proto__', 3],
      ],
    ] as Pair<readonly (string | number)[] | bigint | string, number>[][];
    const out = await runBatches(input, (s) => s.pipe(mapValues((n: number) => -n)));
    expect(out).toEqual([
      [
        [['card-1', 42], -1],
        [10n, -2],
        ['__proto__', -3],
      ],
    ]);
  });

  it('keeps the partitioning of its input (no shuffle), so a keyed result stays partitioned by key', async () => {
    const input = [
      [
        ['a', 1],
        ['b', 1],
        ['c', 1],
        ['a', 1],
        ['d', 1],
      ],
    ] as Pair<string, number>[][];
    const before = await runBatches(input, (s: Pairs) => s.pipe(reduceByKey((a: number, b: number) => a + b, { numPartitions: 3 }), glom()));
    const after = await runBatches(input, (s: Pairs) => s.pipe(reduceByKey((a: number, b: number) => a + b, { numPartitions: 3 }), mapValues((n: number) => n * 2), glom()));
    expect(after).toEqual(before.map((batch) => batch.map((partition) => partition.map(([k, n]) => [k, n * 2]))));
  });

  it('gives the same multiset with 3 partitions as with 1', async () => {
    const input = [
      [
        ['a', 1],
        ['b', 2],
        ['c', 3],
        ['a', 4],
        ['e', 5],
      ],
    ] as Pair<string, number>[][];
    const one = await runBatches(input, (s: Pairs) => s.pipe(mapValues((n: number) => n + 1)), { numPartitions: 1 });
    const three = await runBatches(input, (s: Pairs) => s.pipe(mapValues((n: number) => n + 1)), { numPartitions: 3 });
    expect(sortBatches(three)).toEqual(sortBatches(one));
  });

  it('fails the batch naming mapValues#id when the function throws', async () => {
    const boom = new Error('value');
    const error = await rejectionOf(
      runBatches([[['a', 1]], [['b', 2]]] as Pair<string, number>[][], (s: Pairs) =>
        s.pipe(
          mapValues((n: number) => {
            if (n === 2) throw boom;
            return n;
          }),
        ),
      ),
    );
    expectUserFunctionFailed(error, { operator: /^mapValues#\d+$/, batchId: 1, cause: boom });
  });
});
