import type { Aggregator } from './aggregator.js';

/**
 * The number of values. Exact (integers up to 2^53) and invertible.
 *
 * @example const c = agg.count(); c.result(c.add(c.add(c.create(), 'a'), 'b')) // 2
 */
export function count(): Aggregator<unknown, number, number> {
  return numeric(
    {
      name: 'count',
      create: () => 0,
      add: (acc) => acc + 1,
      merge: (a, b) => a + b,
      result: (acc) => acc,
      inverse: (acc, removed) => acc - removed,
    },
    COUNT,
  );
}

/**
 * The sum of `of(value)`, 0 when empty. Invertible: exact for integers up to 2^53 in magnitude;
 * with fractions, floating-point rounding makes `inverse` drift from a recomputed sum (by a few
 * units in the last place per step), so a long-lived sliding sum of fractions can end slightly off.
 *
 * @param of - the number to add for a value; the value itself by default (a TypeError when it is
 *   not a number).
 * @example agg.sum((order: Order) => order.amount)
 */
export function sum(): Aggregator<number, number, number>;
export function sum<V>(of: (v: V) => number): Aggregator<V, number, number>;
export function sum<V>(of: (v: V) => number = asNumber): Aggregator<V, number, number> {
  const term = (value: V): number => numberOf(of, value, 'sum');
  return numeric(
    {
      name: 'sum',
      create: () => 0,
      add: (acc, value) => acc + term(value),
      merge: (a, b) => a + b,
      result: (acc) => acc,
      inverse: (acc, removed) => acc - removed,
    },
    term as (value: unknown) => number,
  );
}

/**
 * What a built-in numeric aggregator adds to its accumulator per value: `COUNT` (1, count) or the
 * number a function of the value gives (sum). Its accumulator starts at 0, is a number, and is
 * its own result.
 */
export type NumericTerm = typeof COUNT | ((value: unknown) => number);

/** The term of `count()`: every value adds 1. */
export const COUNT: unique symbol = Symbol('count');

/** The built-in numeric aggregators, with the functions they were made with (a changed one is no longer trusted). */
const NUMERIC = new WeakMap<object, { readonly functions: readonly unknown[]; readonly term: NumericTerm }>();

/** The functions of an aggregator that the specialized add stands for. */
function functionsOf(aggregator: object): unknown[] {
  const { create, add, result } = aggregator as Record<string, unknown>;
  return [create, add, result];
}

function numeric<V>(aggregator: Aggregator<V, number, number>, term: NumericTerm): Aggregator<V, number, number> {
  NUMERIC.set(aggregator, { functions: functionsOf(aggregator), term });
  return aggregator;
}

/**
 * The term of `aggregator` when it is a built-in `count()` or `sum(of)` as made (neither copied
 * nor with a function replaced), for the window strategies' specialized add: `acc + term`, with
 * no call of the aggregator and no state-value check (a number is one). `undefined` otherwise.
 */
export function numericTermOf(aggregator: object): NumericTerm | undefined {
  const known = NUMERIC.get(aggregator);
  if (known === undefined) return undefined;
  const now = functionsOf(aggregator);
  return known.functions.every((f, i) => f === now[i]) ? known.term : undefined;
}

/**
 * The smallest `of(value)`, `null` when empty. Not invertible (a minimum cannot forget a value).
 * A NaN makes the minimum NaN, as `Math.min`.
 *
 * @param of - the number to compare for a value; the value itself by default.
 */
export function min(): Aggregator<number, number | null, number | null>;
export function min<V>(of: (v: V) => number): Aggregator<V, number | null, number | null>;
export function min<V>(of: (v: V) => number = asNumber): Aggregator<V, number | null, number | null> {
  return extreme(of, Math.min, 'min');
}

/**
 * The largest `of(value)`, `null` when empty. Not invertible. A NaN makes the maximum NaN, as `Math.max`.
 *
 * @param of - the number to compare for a value; the value itself by default.
 */
export function max(): Aggregator<number, number | null, number | null>;
export function max<V>(of: (v: V) => number): Aggregator<V, number | null, number | null>;
export function max<V>(of: (v: V) => number = asNumber): Aggregator<V, number | null, number | null> {
  return extreme(of, Math.max, 'max');
}

/**
 * The arithmetic mean of `of(value)`, `null` when empty. The accumulator is a new
 * `{ sum, count }` object at each step. Invertible, with the drift of {@link sum} for fractions
 * (exact for integers); an accumulator whose count returns to 0 is reset to `{ sum: 0, count: 0 }`.
 *
 * @param of - the number to average for a value; the value itself by default.
 */
export function mean(): Aggregator<number, { sum: number; count: number }, number | null>;
export function mean<V>(of: (v: V) => number): Aggregator<V, { sum: number; count: number }, number | null>;
export function mean<V>(of: (v: V) => number = asNumber): Aggregator<V, { sum: number; count: number }, number | null> {
  return {
    name: 'mean',
    create: () => ({ sum: 0, count: 0 }),
    add: (acc, value) => ({ sum: acc.sum + numberOf(of, value, 'mean'), count: acc.count + 1 }),
    merge: (a, b) => ({ sum: a.sum + b.sum, count: a.count + b.count }),
    result: (acc) => (acc.count === 0 ? null : acc.sum / acc.count),
    inverse: (acc, removed) => {
      const left = acc.count - removed.count;
      return left === 0 ? { sum: 0, count: 0 } : { sum: acc.sum - removed.sum, count: left };
    },
  };
}

/**
 * Every value, in the order added (and, for a merge, `a`'s then `b`'s). Not invertible. `add`
 * and `merge` return a new array (or, merging with an empty one, the other argument) and never
 * change their arguments, so each add costs the accumulator's length: meant for windows of
 * modest size. `result` returns a copy, so downstream code may change it without touching state.
 * The values must themselves be state values.
 */
export function collect<V>(): Aggregator<V, V[], V[]> {
  return {
    name: 'collect',
    create: () => [],
    add: (acc, value) => [...acc, value],
    merge: (a, b) => (b.length === 0 ? a : a.length === 0 ? b : [...a, ...b]),
    result: (acc) => acc.slice(),
  };
}

function extreme<V>(of: (v: V) => number, pick: (a: number, b: number) => number, name: string): Aggregator<V, number | null, number | null> {
  return {
    name,
    create: () => null,
    add: (acc, value) => {
      const x = numberOf(of, value, name);
      return acc === null ? x : pick(acc, x);
    },
    merge: (a, b) => (a === null ? b : b === null ? a : pick(a, b)),
    result: (acc) => acc,
  };
}

function asNumber<V>(value: V): number {
  return value as number;
}

function numberOf<V>(of: (v: V) => number, value: V, name: string): number {
  const x = of(value);
  if (typeof x !== 'number') {
    throw new TypeError(`${name}: expected a number, got ${typeof x} (${String(x)}); pass a function that picks the number, such as ${name}((v) => v.amount).`);
  }
  return x;
}

/**
 * The built-in aggregators of `eventTimeWindow`, in one namespace (as Spark's `functions`), so
 * they never clash with the stream operators of the same name (`count()` of `sluice` counts a
 * batch's records): `agg.count()`, `agg.sum(of)`, `agg.min(of)`, `agg.max(of)`, `agg.mean(of)`,
 * `agg.collect()`. An aggregator of your own is any {@link Aggregator}.
 *
 * @example clicks.pipe(withWatermark((c) => c.time, '10s'), keyBy((c) => c.page), eventTimeWindow(tumbling('1m'), agg.count()))
 */
export const agg = Object.freeze({ count, sum, min, max, mean, collect });
