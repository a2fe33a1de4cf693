import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CacheBudget } from '../../state/cache-budget.js';
import { LruCache } from '../../state/lru-cache.js';

interface Entry {
  used: boolean;
  readonly n: number;
}

const entry = (n: number): Entry => ({ used: false, n });

describe('LruCache (CLOCK)', () => {
  it('gives a used entry a second chance over older unused ones', () => {
    const cache = new LruCache<string, Entry | null>(16); // evicts one entry at a time
    for (let i = 0; i < 16; i++) cache.set(`k${i}`, entry(i));
    expect(cache.get('k0')?.n).toBe(0);
    cache.set('k16', entry(16));
    expect([cache.size, cache.drops]).toEqual([16, 1]);
    expect(cache.get('k1')).toBeUndefined();
    expect(cache.get('k0')?.n).toBe(0);
    cache.set('k2', entry(-2)); // replacing an entry marks it used, in place
    cache.set('k17', entry(17));
    cache.set('k18', entry(18));
    expect([cache.get('k2')?.n, cache.get('k3'), cache.get('k4')]).toEqual([-2, undefined, undefined]);
  });

  it('never moves or drops an entry while it is not full, and counts what it drops', () => {
    const cache = new LruCache<string, Entry | null>(100);
    for (let i = 0; i < 100; i++) cache.set(`k${i}`, i % 3 === 0 ? null : entry(i));
    expect(cache.drops).toBe(0);
    cache.delete('k5');
    cache.set('new', null);
    expect([cache.size, cache.drops]).toEqual([100, 0]);
    cache.set('over', entry(1));
    expect([cache.size, cache.drops]).toEqual([100 - 6, 7]);
    cache.clear();
    expect([cache.size, cache.drops]).toEqual([0, 101]);
    const none = new LruCache<string, Entry | null>(0);
    none.set('a', entry(1));
    expect([none.size, none.drops, none.get('a')]).toEqual([0, 1, undefined]);
  });

  it('holds at most its capacity, returns only the last value set for a key, and accounts for every entry', () => {
    const op = fc.oneof(
      fc.tuple(fc.constant('set' as const), fc.nat(40), fc.boolean()),
      fc.tuple(fc.constant('get' as const), fc.nat(40), fc.constant(false)),
      fc.tuple(fc.constant('delete' as const), fc.nat(40), fc.constant(false)),
    );
    fc.assert(
      fc.property(fc.nat(20), fc.array(op, { maxLength: 300 }), (capacity, ops) => {
        const cache = new LruCache<number, Entry | null>(capacity);
        const last = new Map<number, Entry | null>();
        let added = 0;
        let deleted = 0;
        let n = 0;
        for (const [kind, key, isNull] of ops) {
          if (kind === 'set') {
            const value = isNull ? null : entry(n++);
            const before = cache.size + cache.drops;
            cache.set(key, value);
            last.set(key, value);
            added += cache.size + cache.drops - before;
          } else if (kind === 'get') {
            const got = cache.get(key);
            if (got !== undefined) expect(got).toBe(last.get(key));
          } else {
            const before = cache.size;
            cache.delete(key);
            deleted += before - cache.size;
          }
          expect(cache.size).toBeLessThanOrEqual(capacity);
          expect(cache.size).toBe(added - deleted - cache.drops);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('LruCache under a shared byte budget', () => {
  interface Sized {
    used: boolean;
    readonly size: number;
  }
  const sizeOf = (key: string, value: Sized | null | undefined): number => key.length + (value?.size ?? 0);

  it('keeps the caches together under the budget: the one holding the most evicts first, small ones keep their entries', () => {
    const budget = new CacheBudget(10_000);
    const large = new LruCache<string, Sized | null>(Number.POSITIVE_INFINITY, { budget, sizeOf });
    const small = new LruCache<string, Sized | null>(Number.POSITIVE_INFINITY, { budget, sizeOf });
    for (let i = 0; i < 20; i++) small.set(`s${i}`, { used: false, size: 20 }); // 20 × 22-23 bytes
    for (let i = 0; i < 100; i++) large.set(`l${i}`, { used: false, size: 1000 });
    expect(budget.total).toBeLessThanOrEqual(10_000);
    expect(budget.total).toBe(large.bytes + small.bytes);
    expect(small.drops).toBe(0);
    expect(small.size).toBe(20);
    expect(large.drops).toBeGreaterThan(80);
    // The newest large entries are the ones kept.
    expect(large.get('l99')).toBeDefined();
    expect(large.get('l0')).toBeUndefined();
  });

  it('counts replacements, deletes and clears, and gives the bytes back when a cache is released', () => {
    const budget = new CacheBudget(1_000_000);
    const cache = new LruCache<string, Sized | null>(Number.POSITIVE_INFINITY, { budget, sizeOf });
    cache.set('a', { used: false, size: 100 });
    cache.set('a', { used: false, size: 300 });
    cache.set('b', null);
    expect(budget.total).toBe(301 + 1);
    cache.delete('a');
    cache.delete('missing');
    expect(budget.total).toBe(1);
    cache.set('c', { used: false, size: 50 });
    cache.clear();
    expect([budget.total, cache.bytes]).toEqual([0, 0]);
    cache.set('d', { used: false, size: 9 });
    cache.release();
    expect(budget.total).toBe(0);
  });

  it('holds, as a law, total = sum of the caches\' bytes <= limit after every operation', () => {
    const op = fc.record({ cache: fc.integer({ min: 0, max: 2 }), key: fc.integer({ min: 0, max: 40 }), size: fc.option(fc.integer({ min: 0, max: 400 })), del: fc.boolean() });
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 3000 }), fc.array(op, { maxLength: 200 }), (limit, ops) => {
        const budget = new CacheBudget(limit);
        const caches = [0, 1, 2].map(() => new LruCache<string, Sized | null>(Number.POSITIVE_INFINITY, { budget, sizeOf }));
        for (const o of ops) {
          const cache = caches[o.cache] as LruCache<string, Sized | null>;
          if (o.del) cache.delete(`k${o.key}`);
          else cache.set(`k${o.key}`, o.size === null ? null : { used: false, size: o.size });
          expect(budget.total).toBe(caches.reduce((n, c) => n + c.bytes, 0));
          expect(budget.total).toBeLessThanOrEqual(limit);
        }
      }),
    );
  });
});
