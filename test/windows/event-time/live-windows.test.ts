import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Key } from 'sluice';
import { encodeKey, hashKey } from 'sluice/extend';
import { LiveWindows, orderOf } from '../../../windows/event-time/live-windows.js';

/** The defined order by comparison: by start (when given), then hashKey, then the key's encoding. */
function reference(keys: readonly Key[], starts?: readonly number[]): number[] {
  const enc = keys.map((k) => encodeKey(k));
  return keys
    .map((_, i) => i)
    .sort((a, b) => (starts === undefined ? 0 : (starts[a] as number) - (starts[b] as number)) || hashKey(keys[a] as Key) - hashKey(keys[b] as Key) || (enc[a]! < enc[b]! ? -1 : enc[a]! > enc[b]! ? 1 : 0));
}

const key = fc.oneof(fc.string({ maxLength: 6 }), fc.integer(), fc.tuple(fc.string({ maxLength: 3 }), fc.integer({ min: 0, max: 9 })));
const distinct = (min: number, max: number) => fc.uniqueArray(key, { minLength: min, maxLength: max, selector: (k) => encodeKey(k as Key) });

describe('orderOf', () => {
  it('orders by hashKey, then by encoding, for few keys and for many', () => {
    fc.assert(
      fc.property(distinct(0, 60), (keys) => {
        expect([...orderOf(keys as Key[], undefined)]).toEqual(reference(keys as Key[]));
      }),
    );
    fc.assert(
      fc.property(distinct(4096, 5000), (keys) => {
        expect([...orderOf(keys as Key[], undefined)]).toEqual(reference(keys as Key[]));
      }),
      { numRuns: 5 },
    );
  });

  it('gives the same order from the keys’ hashes when the caller passes them, for few keys and for many', () => {
    const withHashes = (keys: readonly Key[]): number[] => [...orderOf(keys, undefined, Uint32Array.from(keys, (k) => hashKey(k)))];
    fc.assert(
      fc.property(distinct(0, 60), (keys) => {
        expect(withHashes(keys as Key[])).toEqual(reference(keys as Key[]));
      }),
    );
    fc.assert(
      fc.property(distinct(1024, 3000), (keys) => {
        expect(withHashes(keys as Key[])).toEqual(reference(keys as Key[]));
      }),
      { numRuns: 5 },
    );
  });

  it('orders keys of equal hash by their encoding in the radix sort of many keys', () => {
    // Three pairs of strings whose hashKey collide (found by search), among enough keys to take
    // the radix path.
    const pairs = [['c693596', 'c1170850'], ['c693597', 'c1170851'], ['c693594', 'c1170852']] as const;
    for (const [a, b] of pairs) expect(hashKey(a)).toBe(hashKey(b));
    const keys = [...pairs.flat(), ...Array.from({ length: 3000 }, (_, i) => `k${i}`)];
    const order = [...orderOf(keys, undefined)];
    expect(order).toEqual(reference(keys));
    // Each pair comes out together, smaller encoding first (said plainly, not only through the reference).
    pairs.forEach(([a, b], p) => {
      const [first, second] = encodeKey(a) < encodeKey(b) ? [2 * p, 2 * p + 1] : [2 * p + 1, 2 * p];
      expect(order.indexOf(second)).toBe(order.indexOf(first) + 1);
    });
  });

  it('orders by start first when windows of one end start apart (sessions)', () => {
    fc.assert(
      fc.property(distinct(1, 40).chain((keys) => fc.tuple(fc.constant(keys), fc.array(fc.integer({ min: 0, max: 3 }), { minLength: keys.length, maxLength: keys.length }))), ([keys, starts]) => {
        expect([...orderOf(keys as Key[], Float64Array.from(starts))]).toEqual(reference(keys as Key[], starts));
      }),
    );
  });
});

describe('LiveWindows', () => {
  it('lists live windows by end, then start, then key order, and forgets removed ones', () => {
    const live = new LiveWindows();
    live.add('b', { start: 0, end: 10 });
    live.add('a', { start: 0, end: 10 });
    live.add(['x', 1], { start: 5, end: 15 });
    live.add('a', { start: 2, end: 12 });
    expect(live.has('a', { start: 0, end: 10 })).toBe(true);
    const ends = live.endingUpTo(12).map((w) => [w.key, w.window.start, w.window.end]);
    const [first, second] = hashKey('a') < hashKey('b') ? ['a', 'b'] : ['b', 'a'];
    expect(ends).toEqual([[first, 0, 10], [second, 0, 10], ['a', 2, 12]]);
    live.removeAll(live.endingUpTo(10));
    expect(live.all().map((w) => [w.key, w.window.end])).toEqual([['a', 12], [['x', 1], 15]]);
    live.remove('a', { start: 2, end: 12 });
    expect(live.has('a', { start: 2, end: 12 })).toBe(false);
    expect(live.all()).toHaveLength(1);
  });
});
