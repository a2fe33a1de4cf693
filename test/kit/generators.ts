import type * as FastCheck from 'fast-check';

/*
 * The generators of the kit take the user's fast-check module as their first argument: the kit
 * has no runtime dependency on fast-check (an optional peer), and the arbitraries it returns are
 * the user's own, so they mix with the user's other arbitraries and replay with their seeds.
 */

/** The fast-check module, as `import fc from 'fast-check'` gives it (its default export). */
export type FastCheckModule = typeof FastCheck.default;

/**
 * A record of a keyed event stream. `id` numbers the distinct events from 0 in arrival order; a
 * duplicate (a re-delivered record) is a copy of its original, `id` included.
 */
export interface KeyedEvent<V = number> {
  readonly key: string;
  /** Event time in ms. */
  readonly time: number;
  readonly value: V;
  readonly id: number;
}

/** Options of {@link keyedEvents}. */
export interface KeyedEventsOptions<V = number> {
  /** How many distinct keys (`'k0'`, `'k1'`, ...); at least 1. */
  readonly keys: number;
  /**
   * How unevenly keys are drawn: key `i` has weight `1 / (i + 1) ** skew` (default 0, uniform;
   * 1 is Zipf-like, 2 and more make `'k0'` a hot key).
   */
  readonly skew?: number;
  /** The fewest and the most events, duplicates not counted (default 0 and 30); lengths spread over the whole range. */
  readonly minEvents?: number;
  readonly maxEvents?: number;
  /**
   * Bounded disorder (ms, default 0): every on-time event's time is at least the largest event
   * time before it minus `maxDisorder`, so with a watermark delay of at least `maxDisorder` no
   * on-time event is late.
   */
  readonly maxDisorder?: number;
  /** The most event time advances between two events (ms, default 10). */
  readonly maxAdvance?: number;
  /**
   * The share of late events (0 to 1, default 0): an event (not the first) `maxDisorder + 1` to
   * `maxDisorder + lateBy` ms behind the largest time before it, so behind a watermark of delay
   * `maxDisorder` once that time is in an earlier batch.
   */
  readonly lateFraction?: number;
  /** How far behind the bound a late event may be (ms, default 50). */
  readonly lateBy?: number;
  /** The share of events delivered twice (0 to 1, default 0); the copy arrives right after the original. */
  readonly duplicateFraction?: number;
  /** The values (default: integers in [-100, 100]). */
  readonly value?: FastCheck.Arbitrary<V>;
  /** No event time is below this (default 0). */
  readonly startTime?: number;
}

/** One generated step: the time advance, how far behind, the dice rolls. */
interface Step<V> {
  readonly key: string;
  readonly advance: number;
  readonly back: number;
  readonly lateRoll: number;
  readonly lateBy: number;
  readonly duplicateRoll: number;
  readonly value: V;
}

/** Rolls are in [0, 1000): a share `f` is the top `1000 f` rolls, so shrinking (towards 0) removes it. */
const ROLLS = 1000;
const hits = (roll: number, fraction: number): boolean => roll >= ROLLS - fraction * ROLLS;

/**
 * A keyed event stream, in arrival order: keys with a chosen count and skew, event times
 * disordered within a bound, an optional share of late events and duplicates. Shrinks towards
 * fewer events, key `'k0'`, in-order times, no late events and no duplicates.
 *
 * @throws RangeError when an option is out of range.
 * @example
 * fc.assert(fc.property(keyedEvents(fc, { keys: 3, skew: 1, maxDisorder: 20, lateFraction: 0.1 }), (events) => ...))
 */
export function keyedEvents<V = number>(fc: FastCheckModule, options: KeyedEventsOptions<V>): FastCheck.Arbitrary<KeyedEvent<V>[]> {
  const { keys, skew = 0, minEvents = 0, maxEvents = 30, maxDisorder = 0, maxAdvance = 10, lateFraction = 0, lateBy = 50, duplicateFraction = 0, startTime = 0 } = options;
  checkCount('keys', keys, 1);
  checkCount('minEvents', minEvents, 0);
  checkCount('maxEvents', maxEvents, minEvents);
  checkCount('maxDisorder', maxDisorder, 0);
  checkCount('maxAdvance', maxAdvance, 0);
  checkCount('lateBy', lateBy, 1);
  checkFraction('lateFraction', lateFraction);
  checkFraction('duplicateFraction', duplicateFraction);
  if (!(skew >= 0 && Number.isFinite(skew))) throw new RangeError(`keyedEvents: skew must be a finite number >= 0, got ${skew}.`);
  const key = fc.oneof(...Array.from({ length: keys }, (_, i) => ({ weight: Math.max(1, Math.round(ROLLS / (i + 1) ** skew)), arbitrary: fc.constant(`k${i}`) })));
  const roll = fc.integer({ min: 0, max: ROLLS - 1 });
  const step: FastCheck.Arbitrary<Step<V>> = fc.record({
    key,
    advance: fc.integer({ min: 0, max: maxAdvance }),
    back: fc.integer({ min: 0, max: maxDisorder }),
    lateRoll: roll,
    lateBy: fc.integer({ min: 1, max: lateBy }),
    duplicateRoll: roll,
    value: options.value ?? (fc.integer({ min: -100, max: 100 }) as unknown as FastCheck.Arbitrary<V>),
  });
  // No time is above the frontier, and on-time ones are at most maxDisorder below it, so the
  // largest time is at least origin - maxDisorder, and a late time (up to maxDisorder + lateBy
  // below the largest) at least startTime.
  const origin = startTime + 2 * maxDisorder + lateBy;
  return fc.array(step, { minLength: minEvents, maxLength: maxEvents, size: 'max' }).map((steps) => {
    const out: KeyedEvent<V>[] = [];
    let frontier = origin;
    let largest = Number.NEGATIVE_INFINITY;
    steps.forEach((s, id) => {
      frontier += s.advance;
      const late = id > 0 && hits(s.lateRoll, lateFraction);
      const time = late ? largest - maxDisorder - s.lateBy : frontier - s.back;
      largest = Math.max(largest, time);
      const event: KeyedEvent<V> = { key: s.key, time, value: s.value, id };
      out.push(event);
      if (hits(s.duplicateRoll, duplicateFraction)) out.push({ ...event });
    });
    return out;
  });
}

/**
 * Where to cut `records` (or that many records) into batches: sorted positions in
 * `[0, length]`; a repeated position (or one at either end) makes an empty batch. Shrinks towards
 * no cut (one batch).
 *
 * @param options - `maxBatches` (default 8): the most batches the cuts make.
 */
export function batchCuts(fc: FastCheckModule, records: readonly unknown[] | number, options: { readonly maxBatches?: number } = {}): FastCheck.Arbitrary<number[]> {
  const length = typeof records === 'number' ? records : records.length;
  const maxBatches = options.maxBatches ?? 8;
  checkCount('maxBatches', maxBatches, 1);
  return fc.array(fc.integer({ min: 0, max: length }), { maxLength: maxBatches - 1 }).map((cuts) => [...cuts].sort((a, b) => a - b));
}

/**
 * The batches `cuts` (from {@link batchCuts}) make of `records`: `cuts.length + 1` batches whose
 * concatenation is `records`.
 *
 * @example cutIntoBatches(['a', 'b', 'c'], [1, 1]) // [['a'], [], ['b', 'c']]
 */
export function cutIntoBatches<T>(records: readonly T[], cuts: readonly number[]): T[][] {
  const out: T[][] = [];
  let from = 0;
  for (const cut of cuts) {
    const to = Math.min(records.length, Math.max(from, cut));
    out.push(records.slice(from, to));
    from = to;
  }
  out.push(records.slice(from));
  return out;
}

/**
 * The records of `records`, cut into batches every way {@link batchCuts} generates: the
 * counterexample shows the batches themselves.
 *
 * @example batched(fc, keyedEvents(fc, { keys: 2 })) // Arbitrary<KeyedEvent[][]>
 */
export function batched<T>(fc: FastCheckModule, records: FastCheck.Arbitrary<readonly T[]>, options: { readonly maxBatches?: number } = {}): FastCheck.Arbitrary<T[][]> {
  return records.chain((list) => batchCuts(fc, list, options).map((cuts) => cutIntoBatches(list, cuts)));
}

/** The steps of a batch's life where a crash can be injected (see `exactlyOnceUnderCrash`). */
export const CRASH_STEPS = ['afterPlan', 'midCompute', 'betweenSinks', 'beforeCommit', 'afterCommit', 'betweenCommitted'] as const;

/**
 * Where a batch crashes:
 * - `afterPlan`: the plan is logged, then the first output throws before any output wrote;
 * - `midCompute`: a function right after the source throws on a record of the batch;
 * - `betweenSinks`: the first outputs wrote, then the last one throws;
 * - `beforeCommit`: everything ran and the participants prepared; the atomic commit is not written;
 * - `afterCommit`: the atomic commit is written, then the context fails before any participant
 *   hears `committed`;
 * - `betweenCommitted`: the checkpoint heard `committed`, then the context fails before the other
 *   participants (state stores, windows, sinks, sources) do.
 */
export type CrashStep = (typeof CRASH_STEPS)[number];

/** A crash: in batch `batch` (its id), at step `step`; `record` picks the record of a `midCompute` crash. */
export interface Crash {
  readonly batch: number;
  readonly step: CrashStep;
  /** Which record of the batch throws, modulo the batch's size (`midCompute` only). */
  readonly record: number;
}

/**
 * Crash points in the first `batches` batches, at every step. Shrinks towards batch 0, `afterPlan`.
 *
 * @throws RangeError when `batches` is not a positive integer.
 */
export function crashPoints(fc: FastCheckModule, options: { readonly batches: number }): FastCheck.Arbitrary<Crash> {
  checkCount('batches', options.batches, 1);
  return fc.record({ batch: fc.integer({ min: 0, max: options.batches - 1 }), step: fc.constantFrom(...CRASH_STEPS), record: fc.nat(1000) }, { noNullPrototype: true });
}

function checkCount(name: string, value: number, min: number): void {
  if (!(Number.isInteger(value) && value >= min)) throw new RangeError(`${name} must be an integer >= ${min}, got ${value}.`);
}

function checkFraction(name: string, value: number): void {
  if (!(value >= 0 && value <= 1)) throw new RangeError(`keyedEvents: ${name} must be between 0 and 1, got ${value}.`);
}
