import { describe, expect, it } from 'vitest';
import { Batch, foreachBatch, fullOuterJoin, glom, join, leftOuterJoin, ManualClock, rightOuterJoin, StreamingContext, transform, type DStream, type Key, type Pair } from 'sluice';
import { runBatches } from 'sluice/testing';
import { runManually } from '../run-manually.js';
import { sortBatches } from '../sort-records.js';
import { EverySecondBatch } from '../operators/every-second-batch.js';
import { GapStream } from '../operators/gap-stream.js';

type Left = DStream<Pair<string, number>>;
type Right = DStream<Pair<string, string>>;

const left = [
  [
    ['a', 1],
    ['b', 2],
    ['a', 3],
  ],
  [['c', 4]],
  [],
  [],
] as Pair<string, number>[][];
const right = [
  [
    ['a', 'x'],
    ['a', 'y'],
    ['d', 'z'],
  ],
  [],
  [['e', 'w']],
  [],
] as Pair<string, string>[][];

const joins = { join, leftOuterJoin, rightOuterJoin, fullOuterJoin } as const;

describe('join', () => {
  it('pairs every left value with every right value of the same key, within each batch', async () => {
    const out = await runBatches({ left, right }, ({ left: l, right: r }: { left: Left; right: Right }) => l.pipe(join(r)), { numPartitions: 1 });
    expect(out).toEqual([
      [
        ['a', [1, 'x']],
        ['a', [1, 'y']],
        ['a', [3, 'x']],
        ['a', [3, 'y']],
      ],
      [],
      [],
      [],
    ]);
  });

  it('joins each batch on its own: a key seen on the other side in another batch does not match', async () => {
    const out = await runBatches({ left: [[['a', 1]], []] as Pair<string, number>[][], right: [[], [['a', 'x']]] as Pair<string, string>[][] }, ({ left: l, right: r }: { left: Left; right: Right }) => l.pipe(join(r)));
    expect(out).toEqual([[], []]);
  });

  it('runs every batch when the sides have different numbers of input batches', async () => {
    const out = await runBatches({ left: [[['a', 1]], [['a', 2]], [['a', 3]]] as Pair<string, number>[][], right: [[['a', 'x']]] as Pair<string, string>[][] }, ({ left: l, right: r }: { left: Left; right: Right }) => l.pipe(join(r)));
    expect(out).toEqual([[['a', [1, 'x']]], [], []]);
  });

  it('joins a stream with itself', async () => {
    const out = await runBatches([[['a', 1], ['a', 2], ['b', 3]]] as Pair<string, number>[][], (s: Left) => s.pipe(join(s)), { numPartitions: 1 });
    expect(out).toEqual([
      [
        ['a', [1, 1]],
        ['a', [1, 2]],
        ['a', [2, 1]],
        ['a', [2, 2]],
        ['b', [3, 3]],
      ],
    ]);
  });

  it('compares keys by value across the two sides', async () => {
    const l = [
      [
        [['card-1', 42], 'L1'],
        [1, 'L2'],
        [-0, 'L3'],
        [7n, 'L4'],
        ['constructor', 'L5'],
        [true, 'L6'],
      ],
    ] as Pair<Key, string>[][];
    const r = [
      [
        [['card-1', 42], 'R1'],
        ['1', 'R2'],
        [0, 'R3'],
        [7n, 'R4'],
        ['constructor', 'R5'],
        ['true', 'R6'],
      ],
    ] as Pair<Key, string>[][];
    const out = await runBatches({ left: l, right: r }, ({ left: a, right: b }: { left: DStream<Pair<Key, string>>; right: DStream<Pair<Key, string>> }) => a.pipe(join(b)), { numPartitions: 1 });
    expect(out).toEqual([
      [
        [['card-1', 42], ['L1', 'R1']],
        [0, ['L3', 'R3']],
        [7n, ['L4', 'R4']],
        ['constructor', ['L5', 'R5']],
      ],
    ]);
  });

  it('joins with a static dataset array: the same reference data in every batch', async () => {
    const countries: Pair<string, string>[] = [
      ['fr', 'France'],
      ['de', 'Germany'],
    ];
    const out = await runBatches([[['fr', 1], ['xx', 2]], [], [['de', 3], ['fr', 4]]] as Pair<string, number>[][], (s: Left) => s.pipe(join(countries)), { numPartitions: 1 });
    expect(out).toEqual([
      [['fr', [1, 'France']]],
      [],
      [
        ['de', [3, 'Germany']],
        ['fr', [4, 'France']],
      ],
    ]);
  });

  it('joins with a static Batch and with a static dataset on a slower-sliding stream', async () => {
    const table = new Batch<Pair<string, string>>([[['a', 'x']], [['b', 'y']]]);
    const out = await runBatches([[['a', 1]], [['b', 2]]] as Pair<string, number>[][], (s: Left) => s.pipe(leftOuterJoin(table)));
    expect(out).toEqual([[['a', [1, 'x']]], [['b', [2, 'y']]]]);
    const slow = await runBatches([[['a', 1]], [['a', 2]], [['b', 3]], [['a', 4]]] as Pair<string, number>[][], (s: Left) => new EverySecondBatch(s).pipe(join([['a', 'x']] as Pair<string, string>[])));
    expect(slow).toEqual([[['a', [2, 'x']]], [['a', [4, 'x']]]]);
  });

  it('throws a TypeError when the other stream belongs to another context or slides at another interval', () => {
    const clock = new ManualClock();
    const ctx = new StreamingContext({ batchInterval: 1000, clock });
    const one = ctx.queueStream<Pair<string, number>>();
    const two = new StreamingContext({ batchInterval: 1000, clock }).queueStream<Pair<string, string>>();
    expect(() => one.pipe(join(two))).toThrow(TypeError);
    const slow = new EverySecondBatch(ctx.queueStream<Pair<string, string>>());
    expect(() => one.pipe(join(slow))).toThrow(TypeError);
  });
});

describe('leftOuterJoin', () => {
  it('keeps every left value; one with no right value of its key is paired with undefined', async () => {
    const out = await runBatches({ left, right }, ({ left: l, right: r }: { left: Left; right: Right }) => l.pipe(leftOuterJoin(r)), { numPartitions: 1 });
    expect(out).toEqual([
      [
        ['a', [1, 'x']],
        ['a', [1, 'y']],
        ['a', [3, 'x']],
        ['a', [3, 'y']],
        ['b', [2, undefined]],
      ],
      [['c', [4, undefined]]],
      [],
      [],
    ]);
  });
});

describe('rightOuterJoin', () => {
  it('keeps every right value; one with no left value of its key is paired with undefined', async () => {
    const out = await runBatches({ left, right }, ({ left: l, right: r }: { left: Left; right: Right }) => l.pipe(rightOuterJoin(r)), { numPartitions: 1 });
    expect(out).toEqual([
      [
        ['a', [1, 'x']],
        ['a', [1, 'y']],
        ['a', [3, 'x']],
        ['a', [3, 'y']],
        ['d', [undefined, 'z']],
      ],
      [],
      [['e', [undefined, 'w']]],
      [],
    ]);
  });
});

describe('fullOuterJoin', () => {
  it('keeps every value of either side, pairing one with no partner with undefined', async () => {
    const out = await runBatches({ left, right }, ({ left: l, right: r }: { left: Left; right: Right }) => l.pipe(fullOuterJoin(r)), { numPartitions: 1 });
    expect(out).toEqual([
      [
        ['a', [1, 'x']],
        ['a', [1, 'y']],
        ['a', [3, 'x']],
        ['a', [3, 'y']],
        ['b', [2, undefined]],
        ['d', [undefined, 'z']],
      ],
      [['c', [4, undefined]]],
      [['e', [undefined, 'w']]],
      [],
    ]);
  });
});

describe.each(Object.entries(joins))('%s', (name, joinOp) => {
  const bigLeft = ['a', 'b', 'c', 'a', 'd', 'e', 'b', 'h'].map((k, i): Pair<string, number> => [k, i]);
  const bigRight = ['b', 'e', 'f', 'a', 'g', 'b'].map((k, i): Pair<string, string> => [k, `${k}${i}`]);

  it('gives an empty batch when both sides are empty', async () => {
    expect(await runBatches({ left: [[], []] as Pair<string, number>[][], right: [[], []] as Pair<string, string>[][] }, ({ left: l, right: r }: { left: Left; right: Right }) => l.pipe(joinOp(r)))).toEqual([[], []]);
  });

  it('gives the same multiset with 3 partitions as with 1', async () => {
    const one = await runBatches({ left: [bigLeft, [], bigLeft], right: [bigRight, bigRight, []] }, ({ left: l, right: r }: { left: Left; right: Right }) => l.pipe(joinOp(r)), { numPartitions: 1 });
    const three = await runBatches({ left: [bigLeft, [], bigLeft], right: [bigRight, bigRight, []] }, ({ left: l, right: r }: { left: Left; right: Right }) => l.pipe(joinOp(r)), { numPartitions: 3 });
    expect(sortBatches(three)).toEqual(sortBatches(one));
  });

  it('has as many partitions as its numPartitions option says', async () => {
    const counts = await runBatches({ left: [bigLeft, []], right: [bigRight, []] }, ({ left: l, right: r }: { left: Left; right: Right }) => l.pipe(joinOp(r, { numPartitions: 4 }), transform((batch) => [batch.numPartitions])));
    expect(counts).toEqual([[4], [4]]);
    const partitions = await runBatches({ left: [bigLeft], right: [bigRight] }, ({ left: l, right: r }: { left: Left; right: Right }) => l.pipe(joinOp(r, { numPartitions: 3 }), glom()));
    expect(partitions[0]).toHaveLength(3);
  });

  it('throws a RangeError at construction for a bad numPartitions', () => {
    expect(() => joinOp([], { numPartitions: 0 })).toThrow(RangeError);
  });

  it(`fails the batch naming the operator (${name} or its name option) when a key is not a key`, async () => {
    const seen: unknown[][] = [];
    const run = await runManually([[['a', 1]], [[{}, 2]], [['a', 3]]] as unknown as Pair<string, number>[][], (s: Left) =>
      s.pipe(
        joinOp([['a', 'x']] as Pair<string, string>[], { name: `my-${name}` }),
        foreachBatch((records) => void seen.push([...records])),
      ),
    );
    expect(run.error).toMatchObject({ code: 'USER_FUNCTION_FAILED', operator: `my-${name}`, batchId: 1 });
    expect(seen).toHaveLength(1);
  });
});

describe('a join over an input that gives no batch', () => {
  it('fails the batch naming the join, the input and the batch time', async () => {
    await expect(runBatches({ l: left, r: [[], [], [], []] as Pair<string, string>[][] }, ({ l, r }) => l.pipe(join(new GapStream(r, [1]))))).rejects.toMatchObject({
      code: 'BATCH_FAILED',
      batchId: 1,
      batchTime: 2000,
      message: expect.stringMatching(/its input gapStream#\d+ gave no batch at batch time 2000/) as unknown,
    });
  });
});

