import { describe, expect, it } from 'vitest';
import { Batch, cogroup, glom, ManualClock, StreamingContext, transform, type DStream, type Key, type Pair } from 'sluice';
import { runBatches } from 'sluice/testing';
import { sortBatches } from '../sort-records.js';

type Left = DStream<Pair<string, number>>;
type Right = DStream<Pair<string, string>>;

describe('cogroup', () => {
  it('gives, for every key of either side, its values on each side in arrival order', async () => {
    const left = [
      [
        ['a', 1],
        ['b', 2],
        ['a', 3],
      ],
      [['c', 4]],
    ] as Pair<string, number>[][];
    const right = [
      [
        ['a', 'x'],
        ['d', 'y'],
        ['a', 'z'],
      ],
      [],
    ] as Pair<string, string>[][];
    const out = await runBatches({ left, right }, ({ left: l, right: r }: { left: Left; right: Right }) => l.pipe(cogroup(r)), { numPartitions: 1 });
    expect(out).toEqual([
      [
        ['a', [[1, 3], ['x', 'z']]],
        ['b', [[2], []]],
        ['d', [[], ['y']]],
      ],
      [['c', [[4], []]]],
    ]);
  });

  it('gives an empty batch when both sides are empty, batch by batch', async () => {
    const out = await runBatches({ left: [[], [['a', 1]], []] as Pair<string, number>[][], right: [[], [], []] as Pair<string, string>[][] }, ({ left: l, right: r }: { left: Left; right: Right }) => l.pipe(cogroup(r)));
    expect(out).toEqual([[], [['a', [[1], []]]], []]);
  });

  it('groups each batch on its own: values never carry over between batches', async () => {
    const out = await runBatches({ left: [[['a', 1]], []] as Pair<string, number>[][], right: [[], [['a', 'x']]] as Pair<string, string>[][] }, ({ left: l, right: r }: { left: Left; right: Right }) => l.pipe(cogroup(r)));
    expect(out).toEqual([[['a', [[1], []]]], [['a', [[], ['x']]]]]);
  });

  it('compares keys by value across the two sides: array keys meet, 1 and "1" do not, -0 meets 0, bigints meet', async () => {
    const left = [
      [
        [['card-1', 42], 'L1'],
        [1, 'L2'],
        [-0, 'L3'],
        [7n, 'L4'],
        ['__proto__', 'L5'],
      ],
    ] as Pair<Key, string>[][];
    const right = [
      [
        [['card-1', 42], 'R1'],
        ['1', 'R2'],
        [0, 'R3'],
        [7n, 'R4'],
        ['__proto__', 'R5'],
      ],
    ] as Pair<Key, string>[][];
    const out = await runBatches({ left, right }, ({ left: l, right: r }: { left: DStream<Pair<Key, string>>; right: DStream<Pair<Key, string>> }) => l.pipe(cogroup(r)), { numPartitions: 1 });
    expect(out).toEqual([
      [
        [['card-1', 42], [['L1'], ['R1']]],
        [1, [['L2'], []]],
        [0, [['L3'], ['R3']]],
        [7n, [['L4'], ['R4']]],
        ['__proto__', [['L5'], ['R5']]],
        ['1', [[], ['R2']]],
      ],
    ]);
  });

  it('cogroups with a static dataset: the same records on the right in every batch', async () => {
    const table: Pair<string, string>[] = [
      ['a', 'x'],
      ['b', 'y'],
    ];
    const out = await runBatches([[['a', 1]], [], [['c', 2]]] as Pair<string, number>[][], (l: Left) => l.pipe(cogroup(table)), { numPartitions: 1 });
    expect(out).toEqual([
      [
        ['a', [[1], ['x']]],
        ['b', [[], ['y']]],
      ],
      [
        ['a', [[], ['x']]],
        ['b', [[], ['y']]],
      ],
      [
        ['c', [[2], []]],
        ['a', [[], ['x']]],
        ['b', [[], ['y']]],
      ],
    ]);
  });

  it('accepts a static Batch as the other side', async () => {
    const table = new Batch<Pair<string, string>>([[['a', 'x']], [['a', 'y']]]);
    const out = await runBatches([[['a', 1]]] as Pair<string, number>[][], (l: Left) => l.pipe(cogroup(table)), { numPartitions: 1 });
    expect(out).toEqual([[['a', [[1], ['x', 'y']]]]]);
  });

  it('gives the same multiset with 3 partitions as with 1', async () => {
    const left = ['a', 'b', 'c', 'a', 'd', 'e', 'b'].map((k, i): Pair<string, number> => [k, i]);
    const right = ['b', 'e', 'f', 'a', 'g'].map((k): Pair<string, string> => [k, k.toUpperCase()]);
    const one = await runBatches({ left: [left, []], right: [right, right] }, ({ left: l, right: r }: { left: Left; right: Right }) => l.pipe(cogroup(r)), { numPartitions: 1 });
    const three = await runBatches({ left: [left, []], right: [right, right] }, ({ left: l, right: r }: { left: Left; right: Right }) => l.pipe(cogroup(r)), { numPartitions: 3 });
    expect(sortBatches(three)).toEqual(sortBatches(one));
  });

  it('has as many partitions as its numPartitions option says', async () => {
    const out = await runBatches({ left: [[['a', 1]], []] as Pair<string, number>[][], right: [[['b', 'x']], []] as Pair<string, string>[][] }, ({ left: l, right: r }: { left: Left; right: Right }) =>
      l.pipe(cogroup(r, { numPartitions: 5 }), transform((batch) => [batch.numPartitions])),
    );
    expect(out).toEqual([[5], [5]]);
    const partitions = await runBatches({ left: [[['a', 1]]] as Pair<string, number>[][], right: [[['a', 'x']]] as Pair<string, string>[][] }, ({ left: l, right: r }: { left: Left; right: Right }) => l.pipe(cogroup(r, { numPartitions: 2 }), glom()));
    expect(partitions[0]).toHaveLength(2);
  });

  it('throws a RangeError at construction for a bad numPartitions, and a TypeError for a stream of another context', () => {
    expect(() => cogroup([], { numPartitions: 0 })).toThrow(RangeError);
    const clock = new ManualClock();
    const one = new StreamingContext({ batchInterval: 1000, clock }).queueStream<Pair<string, number>>();
    const two = new StreamingContext({ batchInterval: 1000, clock }).queueStream<Pair<string, string>>();
    expect(() => one.pipe(cogroup(two))).toThrow(TypeError);
  });
});
