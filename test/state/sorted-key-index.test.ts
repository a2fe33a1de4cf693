import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SortedKeyIndex } from '../../state/sorted-key-index.js';

const sorted = (keys: Iterable<string>): string[] => [...keys].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
const key36 = (n: number): string => n.toString(36);

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

  it('built in bulk from sorted keys, holds what adding them one by one holds, through later adds and deletes', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 0, max: 4_000 }), { maxLength: 2_500, size: 'max' }),
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 4_000 })), { maxLength: 3_000, size: 'max' }),
        fc.array(fc.tuple(fc.option(fc.integer({ min: 0, max: 4_000 })), fc.option(fc.integer({ min: 0, max: 4_000 }))), { minLength: 1, maxLength: 4 }),
        (initial, ops, ranges) => {
          const model = new Set(initial.map(key36));
          const bulk = SortedKeyIndex.fromSorted(sorted(model));
          const oneByOne = new SortedKeyIndex();
          for (const key of model) oneByOne.add(key);
          const check = (): void => {
            expect(bulk.size).toBe(model.size);
            expect([...bulk.keys()]).toEqual([...oneByOne.keys()]);
            expect([...bulk.keys()]).toEqual(sorted(model));
            for (const [from, to] of ranges) {
              const [gte, lt] = [from === null ? undefined : key36(from), to === null ? undefined : key36(to)];
              const expected = sorted(model).filter((k) => (gte === undefined || k >= gte) && (lt === undefined || k < lt));
              expect([...bulk.keys(gte, lt)]).toEqual(expected);
            }
          };
          check();
          for (const [add, n] of ops) {
            const key = key36(n);
            expect(add ? bulk.add(key) : bulk.delete(key)).toBe(add ? !model.has(key) : model.has(key));
            if (add) {
              oneByOne.add(key);
              model.add(key);
            } else {
              oneByOne.delete(key);
              model.delete(key);
            }
          }
          check();
        },
      ),
      { numRuns: 50 },
    );
  });

  it('builds in bulk from no keys, from one, and from whole chunks, and refuses keys out of order or repeated', () => {
    expect([...SortedKeyIndex.fromSorted([]).keys()]).toEqual([]);
    expect(SortedKeyIndex.fromSorted([]).add('a')).toBe(true);
    expect([...SortedKeyIndex.fromSorted(['a']).keys()]).toEqual(['a']);
    for (const n of [255, 256, 257, 512, 513, 575, 576, 10_000]) {
      const keys = Array.from({ length: n }, (_, i) => String(i).padStart(5, '0'));
      const index = SortedKeyIndex.fromSorted(keys);
      expect(index.size).toBe(n);
      expect([...index.keys()]).toEqual(keys);
      expect([...index.keys('00100', '00300')]).toEqual(keys.slice(100, 300));
      for (const key of keys) expect(index.delete(key)).toBe(true);
      expect([...index.keys()]).toEqual([]);
    }
    expect(() => SortedKeyIndex.fromSorted(['b', 'a'])).toThrow(RangeError);
    expect(() => SortedKeyIndex.fromSorted(['a', 'b', 'b'])).toThrow(RangeError);
  });

  it('does not keep the array it is built from', () => {
    const keys = ['a', 'b', 'c'];
    const index = SortedKeyIndex.fromSorted(keys);
    keys.push('d');
    keys[0] = 'z';
    expect([...index.keys()]).toEqual(['a', 'b', 'c']);
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

  it('a paused walk over an index built in bulk goes on after the last key it gave when the index changes', () => {
    const index = SortedKeyIndex.fromSorted(Array.from({ length: 3_000 }, (_, i) => String(i).padStart(4, '0')));
    const walk = index.keys('0100', '2000');
    const seen = [walk.next().value, walk.next().value];
    for (let i = 0; i < 3_000; i += 2) index.delete(String(i).padStart(4, '0'));
    index.add('0101a');
    seen.push(walk.next().value, walk.next().value);
    expect(seen).toEqual(['0100', '0101', '0101a', '0103']);
    expect([...walk]).toHaveLength(948);
  });
});
