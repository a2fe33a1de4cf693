import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkStateValue, decodeValue, encodeValue } from 'sluice/extend';
import { assertSameValue } from 'sluice/testing';
import type { Aggregator } from '../../../windows/event-time/aggregator.js';

/** Deep-freezes plain objects and arrays, so an aggregator that mutates its arguments throws. */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

function fold<V, A>(agg: Aggregator<V, A, unknown>, values: readonly V[]): A {
  let acc = deepFreeze(agg.create());
  for (const v of values) acc = deepFreeze(agg.add(acc, v));
  return acc;
}

/** Cuts `values` into consecutive parts at the given points (empty parts included). */
function split<V>(values: readonly V[], cuts: readonly number[]): V[][] {
  const points = cuts.map((c) => c % (values.length + 1)).sort((a, b) => a - b);
  const parts: V[][] = [];
  let from = 0;
  for (const p of [...points, values.length]) {
    parts.push(values.slice(from, p));
    from = p;
  }
  return parts;
}

/**
 * The laws every aggregator keeps (see `Aggregator`), written once: folding equals merging the
 * folds of any split, merge is associative with `create()` as identity, `add` and `merge` leave
 * their arguments alone, accumulators are state values, and `inverse` (when the aggregator has
 * one and `exactInverse` says it is exact on these values) undoes `merge`.
 */
export function describeAggregatorLaws<V, A, R>(name: string, make: () => Aggregator<V, A, R>, values: fc.Arbitrary<V>, options: { exactInverse: boolean }): void {
  const lists = fc.array(values, { maxLength: 30 });
  describe(`${name} (aggregator laws)`, () => {
    it('adding all values equals merging the accumulators of any split of them, in order', () => {
      fc.assert(
        fc.property(lists, fc.array(fc.nat(), { maxLength: 5 }), (vs, cuts) => {
          const agg = make();
          const merged = split(vs, cuts).reduce((acc, part) => deepFreeze(agg.merge(acc, fold(agg, part))), deepFreeze(agg.create()));
          expect(merged).toEqual(fold(agg, vs));
        }),
      );
    });

    it('merge is associative, with create() as its identity', () => {
      fc.assert(
        fc.property(lists, lists, lists, (xs, ys, zs) => {
          const agg = make();
          const [a, b, c] = [fold(agg, xs), fold(agg, ys), fold(agg, zs)];
          expect(agg.merge(deepFreeze(agg.merge(a, b)), c)).toEqual(agg.merge(a, deepFreeze(agg.merge(b, c))));
          expect(agg.merge(deepFreeze(agg.create()), a)).toEqual(a);
          expect(agg.merge(a, deepFreeze(agg.create()))).toEqual(a);
        }),
      );
    });

    it('accumulators are state values that survive the value codec', () => {
      fc.assert(
        fc.property(lists, (vs) => {
          const acc = fold(make(), vs);
          checkStateValue(acc);
          assertSameValue(decodeValue(encodeValue(acc)), acc);
        }),
      );
    });

    if (options.exactInverse) {
      it('inverse(merge(a, b), b) equals a (the inverse law)', () => {
        fc.assert(
          fc.property(lists, lists, (xs, ys) => {
            const agg = make();
            const [a, b] = [fold(agg, xs), fold(agg, ys)];
            expect(agg.inverse?.(deepFreeze(agg.merge(a, b)), b)).toEqual(a);
          }),
        );
      });
    }
  });
}
