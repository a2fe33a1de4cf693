import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { reduceByKey, type Key, type Pair } from 'sluice';
import { hashKey, KeyMap } from 'sluice/extend';
import { runBatches } from 'sluice/testing';

/*
 * The keyed combine's map task keeps primitive keys in a plain `Map` and moves to `KeyMap`s at
 * the first array key of a partition (core/keyed/shuffle.ts). Either way a batch's result must be
 * what a `KeyMap` fold gives: keys compared by value (-0 is 0, NaN is NaN, bigints and arrays by
 * value), each key once, in first-seen order within its output partition, partitions in order.
 * fast-check prints the seed of a failure (FC_SEED replays it).
 */

const part = fc.oneof(
  fc.constantFrom<Key>('a', 'b', '', 0, -0, 1, Number.NaN, 2.5, true, false, 1n, 10n ** 20n),
  fc.integer({ min: -3, max: 3 }),
  fc.string({ maxLength: 2 }),
);
const key: fc.Arbitrary<Key> = fc.oneof({ weight: 4, arbitrary: part }, { weight: 1, arbitrary: fc.array(fc.constantFrom<Key>('a', 1, -0, 0, 2n), { minLength: 1, maxLength: 2 }) as fc.Arbitrary<Key> });

/** The reference: a `KeyMap` fold per output partition, partitioned as `partitionOf` does. */
function expected(pairs: readonly Pair<Key, number>[], numPartitions: number): Pair<Key, number>[] {
  const maps = Array.from({ length: numPartitions }, () => new KeyMap<Key, number>());
  for (const [k, v] of pairs) {
    const map = maps[numPartitions === 1 ? 0 : hashKey(k) % numPartitions] as KeyMap<Key, number>;
    map.set(k, (map.get(k) ?? 0) + v);
  }
  const out: Pair<Key, number>[] = [];
  for (const map of maps) map.forEach((v, k) => void out.push([k, v]));
  return out;
}

describe('keyed combine keys', () => {
  it('gives a KeyMap fold’s keys, values and order, with primitive keys only and with array keys among them', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(key, fc.integer({ min: 0, max: 9 })), { maxLength: 40 }), fc.integer({ min: 1, max: 3 }), async (pairs, numPartitions) => {
        const out = await runBatches([pairs as Pair<Key, number>[]], (s) => s.pipe(reduceByKey((a: number, b: number) => a + b, { numPartitions })), { numPartitions: 1 });
        expect(out).toEqual([expected(pairs, numPartitions)]);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps -0 as 0 and meets NaN with NaN, before and after an array key moves the map to KeyMaps', async () => {
    const pairs: Pair<Key, number>[] = [
      [-0, 1],
      [Number.NaN, 1],
      ['a', 1],
      [0, 1],
      [['x', 1], 1],
      [Number.NaN, 1],
      [-0, 1],
      [['x', 1], 1],
      [1n, 1],
      ['a', 1],
    ];
    const [out] = await runBatches([pairs], (s) => s.pipe(reduceByKey((a: number, b: number) => a + b)), { numPartitions: 1 });
    expect(out).toEqual([
      [0, 3],
      [Number.NaN, 2],
      ['a', 2],
      [['x', 1], 2],
      [1n, 1],
    ]);
    expect(Object.is((out as Pair<Key, number>[])[0]?.[0], 0)).toBe(true);
  });
});
