import { describe, expectTypeOf, it } from 'vitest';
import { cogroup, combineByKey, count, countByValue, filter, flatMap, flatMapValues, foreachBatch, fullOuterJoin, glom, groupByKey, join, keyBy, leftOuterJoin, ManualClock, map, mapPartitions, mapToPair, mapValues, reduce, reduceByKey, repartition, rightOuterJoin, StreamingContext, transform, transformWith, union, type Batch, type DStream, type Pair } from 'sluice';
import type { OutputOperation } from 'sluice/extend';

interface Payment {
  readonly user: string;
  readonly card: string;
  readonly amount: number;
}

interface Profile {
  readonly country: string;
}

// Type-level tests: checked by `tsc -p tsconfig.json --noEmit`; at run time the streams are only built.
const ctx = new StreamingContext({ batchInterval: 1000, clock: new ManualClock() });
const payments = ctx.queueStream<Payment>();
const profiles = ctx.queueStream<Pair<string, Profile>>();
const amounts = payments.pipe(mapToPair((p) => [p.user, p.amount]));

describe('type inference', () => {
  it('mapToPair infers K and V from the function', () => {
    expectTypeOf(amounts).toEqualTypeOf<DStream<Pair<string, number>>>();
    expectTypeOf(payments.pipe(mapToPair((p) => [p.amount, p.card]))).toEqualTypeOf<DStream<Pair<number, string>>>();
    expectTypeOf(payments.pipe(mapToPair((p) => [BigInt(p.amount), true]))).toEqualTypeOf<DStream<Pair<bigint, boolean>>>();
  });

  it('keyBy pairs the key with the record', () => {
    expectTypeOf(payments.pipe(keyBy((p) => p.card))).toEqualTypeOf<DStream<Pair<string, Payment>>>();
    expectTypeOf(payments.pipe(keyBy((p): readonly [string, number] => [p.card, p.amount]))).toEqualTypeOf<DStream<Pair<readonly [string, number], Payment>>>();
  });

  it('carries K and V through a pipe chain into reduceByKey', () => {
    const totals = payments.pipe(
      mapToPair((e) => [e.user, e.amount]),
      reduceByKey((a, b) => a + b),
    );
    expectTypeOf(totals).toEqualTypeOf<DStream<Pair<string, number>>>();
    expectTypeOf(amounts.pipe(reduceByKey((a, b) => Math.max(a, b), { numPartitions: 4 }))).toEqualTypeOf<DStream<Pair<string, number>>>();
  });

  it('carries K through every value transformation', () => {
    expectTypeOf(amounts.pipe(mapValues((n) => n > 100))).toEqualTypeOf<DStream<Pair<string, boolean>>>();
    expectTypeOf(amounts.pipe(flatMapValues((n) => [String(n)]))).toEqualTypeOf<DStream<Pair<string, string>>>();
    expectTypeOf(amounts.pipe(groupByKey())).toEqualTypeOf<DStream<Pair<string, number[]>>>();
    const means = amounts.pipe(
      combineByKey({
        create: (v: number) => ({ sum: v, n: 1 }),
        mergeValue: (c, v) => ({ sum: c.sum + v, n: c.n + 1 }),
        mergeCombiners: (a, b) => ({ sum: a.sum + b.sum, n: a.n + b.n }),
      }),
    );
    expectTypeOf(means).toEqualTypeOf<DStream<Pair<string, { sum: number; n: number }>>>();
  });

  it('gives the join family their documented value shapes', () => {
    expectTypeOf(amounts.pipe(join(profiles))).toEqualTypeOf<DStream<Pair<string, [number, Profile]>>>();
    expectTypeOf(amounts.pipe(leftOuterJoin(profiles))).toEqualTypeOf<DStream<Pair<string, [number, Profile | undefined]>>>();
    expectTypeOf(amounts.pipe(rightOuterJoin(profiles))).toEqualTypeOf<DStream<Pair<string, [number | undefined, Profile]>>>();
    expectTypeOf(amounts.pipe(fullOuterJoin(profiles))).toEqualTypeOf<DStream<Pair<string, [number | undefined, Profile | undefined]>>>();
    expectTypeOf(amounts.pipe(cogroup(profiles))).toEqualTypeOf<DStream<Pair<string, [number[], Profile[]]>>>();
  });

  it('joins with a static dataset infer W from the dataset', () => {
    const table: readonly Pair<string, Profile>[] = [['u1', { country: 'fr' }]];
    expectTypeOf(amounts.pipe(join(table))).toEqualTypeOf<DStream<Pair<string, [number, Profile]>>>();
    expectTypeOf(amounts.pipe(leftOuterJoin([['u1', 'vip']]))).toEqualTypeOf<DStream<Pair<string, [number, string | undefined]>>>();
  });

  it('carries K and V through a long chain', () => {
    const flagged = payments.pipe(
      filter((p) => p.amount > 0),
      keyBy((p) => p.card),
      mapValues((p) => p.amount),
      reduceByKey((a, b) => a + b),
      leftOuterJoin(profiles),
      mapValues(([total, profile]) => ({ total, country: profile?.country ?? 'unknown' })),
      filter(([, v]) => v.total > 1000),
    );
    expectTypeOf(flagged).toEqualTypeOf<DStream<Pair<string, { total: number; country: string }>>>();
  });

  it('infers record types through the per-record and batch operators', () => {
    const words = ctx.queueStream<string>();
    expectTypeOf(words.pipe(map((w) => w.length))).toEqualTypeOf<DStream<number>>();
    expectTypeOf(words.pipe(flatMap((w) => w.split('')))).toEqualTypeOf<DStream<string>>();
    expectTypeOf(words.pipe(filter((w) => w !== ''))).toEqualTypeOf<DStream<string>>();
    expectTypeOf(words.pipe(glom())).toEqualTypeOf<DStream<string[]>>();
    expectTypeOf(words.pipe(mapPartitions((records) => [records.length]))).toEqualTypeOf<DStream<number>>();
    expectTypeOf(words.pipe(repartition(4))).toEqualTypeOf<DStream<string>>();
    expectTypeOf(words.pipe(union(words))).toEqualTypeOf<DStream<string>>();
    expectTypeOf(words.pipe(count())).toEqualTypeOf<DStream<number>>();
    expectTypeOf(words.pipe(countByValue())).toEqualTypeOf<DStream<Pair<string, number>>>();
    expectTypeOf(words.pipe(reduce((a, b) => a + b))).toEqualTypeOf<DStream<string>>();
    expectTypeOf(words.pipe(transform((batch) => batch.map((w) => w.length)))).toEqualTypeOf<DStream<number>>();
    expectTypeOf(words.pipe(transform(async (batch) => Promise.resolve(batch.toArray().map((w) => w === ''))))).toEqualTypeOf<DStream<boolean>>();
    expectTypeOf(words.pipe(transformWith(amounts, (batch, other) => [batch.size, other.size]))).toEqualTypeOf<DStream<number>>();
    expectTypeOf(words.pipe(transformWith([1n, 2n], (_batch, other: Batch<bigint>) => other))).toEqualTypeOf<DStream<bigint>>();
  });

  it('narrows with a type-guard filter', () => {
    const mixed = ctx.queueStream<string | number>();
    expectTypeOf(mixed.pipe(filter((x): x is number => typeof x === 'number'))).toEqualTypeOf<DStream<number>>();
  });

  it('hands foreachBatch readonly records of the stream’s type', () => {
    const output = amounts.pipe(
      foreachBatch((records, info) => {
        expectTypeOf(records).toEqualTypeOf<readonly Pair<string, number>[]>();
        expectTypeOf(info.batchId).toEqualTypeOf<number>();
      }),
    );
    expectTypeOf(output).toEqualTypeOf<OutputOperation<Pair<string, number>>>();
  });

  it('rejects mistakes at compile time', () => {
    const words = ctx.queueStream<string>();
    const booleans = ctx.queueStream<Pair<boolean, string>>();
    // @ts-expect-error reduceByKey needs a keyed stream
    words.pipe(reduceByKey((a: string, b: string) => a + b));
    // @ts-expect-error the keys of the two sides of a join must agree
    amounts.pipe(join(booleans));
    // @ts-expect-error an object is not a key
    payments.pipe(mapToPair((p) => [{ user: p.user }, p.amount]));
    // @ts-expect-error countByValue compares records by value, so they must be keys
    payments.pipe(countByValue());
    // @ts-expect-error the reduce function must return the value type
    amounts.pipe(reduceByKey((a: number, b: number) => `${a}${b}`));
    // @ts-expect-error groupByKey's values are the stream's values
    expectTypeOf(amounts.pipe(groupByKey())).toEqualTypeOf<DStream<Pair<string, string[]>>>();
  });
});
