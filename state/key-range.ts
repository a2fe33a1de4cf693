import type { KeyRange, StoreKey } from './state-store.js';

/** A {@link KeyRange} reduced to bounds: `gte <= key < lt` (an undefined bound is open), and a limit. */
export interface KeyBounds {
  readonly gte: StoreKey | undefined;
  readonly lt: StoreKey | undefined;
  readonly limit: number;
}

const NOT_A_BYTE = /[\u0100-\uffff]/;

/** Throws a TypeError unless `key` is a string of bytes (chars 0..255), as the key codec makes. */
export function checkStoreKey(key: unknown): asserts key is StoreKey {
  if (typeof key !== 'string') throw new TypeError(`State store key: expected a string made by encodeKey, got ${typeof key}.`);
  if (NOT_A_BYTE.test(key)) throw new TypeError(`State store key ${JSON.stringify(key)}: every character must be a byte (0..255); build keys with encodeKey.`);
}

/**
 * The bounds of `range`: the prefix becomes the tightest `gte`/`lt` pair, intersected with the
 * range's own bounds.
 *
 * @throws RangeError when `limit` is not a non-negative integer (or Infinity).
 * @throws TypeError when a bound is not a store key.
 */
export function keyBounds(range: KeyRange = {}): KeyBounds {
  const { prefix, gte, lt, limit = Infinity } = range;
  if (!(limit >= 0) || (limit !== Infinity && !Number.isInteger(limit))) {
    throw new RangeError(`Key range limit must be a non-negative integer, got ${String(limit)}.`);
  }
  for (const bound of [prefix, gte, lt]) if (bound !== undefined) checkStoreKey(bound);
  let lower = gte;
  let upper = lt;
  if (prefix !== undefined && prefix !== '') {
    if (lower === undefined || lower < prefix) lower = prefix;
    const end = prefixEnd(prefix);
    if (end !== undefined && (upper === undefined || end < upper)) upper = end;
  }
  return { gte: lower, lt: upper, limit };
}

/** The smallest key above every key that starts with `prefix`; undefined when there is none. */
export function prefixEnd(prefix: StoreKey): StoreKey | undefined {
  let i = prefix.length - 1;
  while (i >= 0 && prefix.charCodeAt(i) === 0xff) i--;
  if (i < 0) return undefined;
  return prefix.slice(0, i) + String.fromCharCode(prefix.charCodeAt(i) + 1);
}

/** Whether `key` lies within `bounds` (the limit aside). */
export function inBounds(key: StoreKey, bounds: KeyBounds): boolean {
  return (bounds.gte === undefined || key >= bounds.gte) && (bounds.lt === undefined || key < bounds.lt);
}
