import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { collect, count, COUNT, max, mean, min, numericTermOf, sum } from '../../../windows/event-time/aggregators.js';
import type { Aggregator } from '../../../windows/event-time/aggregator.js';
import { describeAggregatorLaws } from './aggregator-laws.js';

const integers = fc.integer({ min: -(10 ** 9), max: 10 ** 9 });
const doubles = fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }).map((x) => x + 0); // no -0
const order = fc.record({ id: fc.string(), amount: integers });
type Order = { id: string; amount: number };

const foldAll = <V, A, R>(agg: Aggregator<V, A, R>, values: readonly V[]): R => agg.result(values.reduce((acc, v) => agg.add(acc, v), agg.create()));

describeAggregatorLaws('count', count, fc.anything(), { exactInverse: true });
describeAggregatorLaws('sum of integers', () => sum(), integers, { exactInverse: true });
describeAggregatorLaws('sum of a field', () => sum((o: Order) => o.amount), order, { exactInverse: true });
describeAggregatorLaws('mean of integers', () => mean(), integers, { exactInverse: true });
describeAggregatorLaws('min', () => min(), doubles, { exactInverse: false });
describeAggregatorLaws('max of a field', () => max((o: Order) => o.amount), order, { exactInverse: false });
describeAggregatorLaws('collect', () => collect<Order>(), order, { exactInverse: false });

describe('aggregators', () => {
  it('give their empty results', () => {
    expect([count(), sum(), min(), max(), mean(), collect()].map((agg) => (agg as Aggregator<unknown, unknown, unknown>).result((agg as Aggregator<unknown, unknown, unknown>).create()))).toEqual([0, 0, null, null, null, []]);
  });

  it('compute what their names say (law)', () => {
    fc.assert(
      fc.property(fc.array(integers, { minLength: 1, maxLength: 30 }), (vs) => {
        expect(foldAll(count(), vs)).toBe(vs.length);
        expect(foldAll(sum(), vs)).toBe(vs.reduce((a, b) => a + b, 0));
        expect(foldAll(min(), vs)).toBe(Math.min(...vs));
        expect(foldAll(max(), vs)).toBe(Math.max(...vs));
        expect(foldAll(mean(), vs)).toBe(vs.reduce((a, b) => a + b, 0) / vs.length);
        expect(foldAll(collect<number>(), vs)).toEqual(vs);
      }),
    );
  });

  it('pick numbers with the given function', () => {
    const orders: Order[] = [
      { id: 'a', amount: 5 },
      { id: 'b', amount: -2 },
      { id: 'c', amount: 9 },
    ];
    expect(foldAll(sum((o: Order) => o.amount), orders)).toBe(12);
    expect(foldAll(min((o: Order) => o.amount), orders)).toBe(-2);
    expect(foldAll(max((o: Order) => o.amount), orders)).toBe(9);
    expect(foldAll(mean((o: Order) => o.amount), orders)).toBe(4);
  });

  it('reject values that are not numbers, saying how to pick one (as a program without types can give them)', () => {
    const bad = sum() as Aggregator<unknown, number, number>;
    expect(() => bad.add(0, '5')).toThrow(TypeError);
    expect(() => bad.add(0, '5')).toThrow(/sum: expected a number, got string \(5\); pass a function that picks the number/);
    expect(() => (min() as Aggregator<unknown, number | null, number | null>).add(null, { amount: 1 })).toThrow(/min: expected a number, got object/);
    expect(() => mean((o: Order) => o.id as unknown as number).add({ sum: 0, count: 0 }, { id: 'x', amount: 1 })).toThrow(/mean: expected a number, got string/);
  });

  it('have an inverse exactly when they can: count, sum and mean', () => {
    expect([count(), sum(), mean(), min(), max(), collect()].map((agg) => typeof agg.inverse)).toEqual(['function', 'function', 'function', 'undefined', 'undefined', 'undefined']);
  });

  it('mean resets to the empty accumulator when the inverse removes every value', () => {
    const m = mean();
    const a = m.add(m.add(m.create(), 0.1), 0.2);
    expect(m.inverse?.(a, a)).toEqual({ sum: 0, count: 0 });
    expect(m.result(m.inverse!(a, a))).toBeNull();
  });

  it('sum drifts under inverse with fractions (documented): exact only for integers', () => {
    const s = sum();
    expect(s.inverse?.(s.merge(0.1, 0.2), 0.2)).not.toBe(0.1);
    expect(s.inverse?.(s.merge(0.1, 0.2), 0.2)).toBeCloseTo(0.1, 15);
  });

  it('collect keeps arrival order, and its result is a copy', () => {
    const c = collect<string>();
    const acc = c.merge(c.add(c.add(c.create(), 'b'), 'a'), c.add(c.create(), 'c'));
    expect(acc).toEqual(['b', 'a', 'c']);
    const out = c.result(acc);
    out.push('z');
    expect(acc).toEqual(['b', 'a', 'c']);
  });

  it('min and max of NaN are NaN, like Math.min and Math.max', () => {
    expect(foldAll(min(), [1, Number.NaN, 2])).toBeNaN();
    expect(foldAll(max(), [1, Number.NaN])).toBeNaN();
  });
});

describe('agg', () => {
  it('gathers the built-in aggregators in one namespace, apart from the stream operators of the same names', async () => {
    const windows = await import('sluice/windows');
    expect(Object.keys(windows.agg).sort()).toEqual(['collect', 'count', 'max', 'mean', 'min', 'sum']);
    expect(windows.agg.count).toBe(count);
    expect('count' in windows).toBe(false);
  });
});

describe('numericTermOf (the window strategies add count and sum in place)', () => {
  it('knows count() and sum(of) as made, and no copy, changed function or other aggregator', () => {
    expect(numericTermOf(count())).toBe(COUNT);
    const term = numericTermOf(sum((o: Order) => o.amount));
    expect(typeof term).toBe('function');
    expect((term as (v: unknown) => number)({ id: 'x', amount: 7 })).toBe(7);
    // The term checks the number as sum's add does.
    expect(() => (numericTermOf(sum()) as (v: unknown) => number)('7')).toThrow(TypeError);
    expect(numericTermOf({ ...count() })).toBeUndefined();
    const changed = count();
    changed.add = (acc) => acc + 2;
    expect(numericTermOf(changed)).toBeUndefined();
    expect(numericTermOf(mean())).toBeUndefined();
    expect(numericTermOf(min())).toBeUndefined();
  });
});
