import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SortedKeyIndex } from '../../state/sorted-key-index.js';

const sorted = (keys: Iterable<string>): string[] => [...keys].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

describe('SortedKeyIndex', () => {
  it('holds the same keys as a set, in order, through adds and deletes that split and merge chunks', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 3_000 })), { minLength: 1, maxLength: 4_000, size: 'max' }),
        fc.integer({ min: 0, max: 3_000 }),
        fc.integer({ min: 0, max: 3_000 }),
        (ops, from, to) => {
          const index = new SortedKeyIndex();
          const model = new Set<string>();
          for (const [add, n] of ops) {
            const key = n.toString(36);
            expect(add ? index.add(key) : index.delete(key)).toBe(add ? !model.has(key) : model.has(key));
            if (add) model.add(key);
            else model.delete(key);
          }
          expect(index.size).toBe(model.size);
          expect([...index.keys()]).toEqual(sorted(model));
          const [gte, lt] = [from.toString(36), to.toString(36)];
          expect([...index.keys(gte, lt)]).toEqual(sorted(model).filter((k) => k >= gte && k < lt));
        },
      ),
      { numRuns: 50 },
    );
  });

  it('empties and refills', () => {
    const index = new SortedKeyIndex();
    const keys = Array.from({ length: 5_000 }, (_, i) => `k${(i * 7_919) % 5_000}`);
    for (const key of keys) index.add(key);
    for (const key of keys) index.delete(key);
    expect([...index.keys()]).toEqual([]);
    index.add('b');
    index.add('a');
    expect([...index.keys()]).toEqual(['a', 'b']);
  });

  it('a paused walk goes on after the last key it gave when the index changes', () => {
    const index = new SortedKeyIndex();
    for (let i = 0; i < 3_000; i++) index.add(String(i).padStart(4, '0'));
    const walk = index.keys('0100');
    const seen = [walk.next().value, walk.next().value];
    for (let i = 0; i < 3_000; i += 2) index.delete(String(i).padStart(4, '0'));
    index.add('0101a');
    seen.push(walk.next().value, walk.next().value);
    expect(seen).toEqual(['0100', '0101', '0101a', '0103']);
  });
});
