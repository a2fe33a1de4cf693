import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
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
