import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeCompositeKey } from '../../core/internal.js';
import { hashKey, keyEquals, KeyMap } from 'sluice/extend';
import type { Key, KeyPart } from 'sluice';

/** The test's own notion of key equality, written without Sluice: same type, `===`, or both NaN. */
function samePart(a: KeyPart, b: KeyPart): boolean {
  return typeof a === typeof b && (a === b || (a !== a && b !== b));
}

function sameKey(a: Key, b: Key): boolean {
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (!Array.isArray(a)) return samePart(a as KeyPart, b as KeyPart);
  const bs = b as readonly KeyPart[];
  return a.length === bs.length && (a as readonly KeyPart[]).every((part, i) => samePart(part, bs[i] as KeyPart));
}

/** A key's identity by value as text (the model's map key): `-0` is `0`, `1` is not `'1'`. */
function showKey(key: Key): string {
  if (Array.isArray(key)) return `[${(key as readonly KeyPart[]).map((p) => showKey(p)).join(',')}]`;
  switch (typeof key) {
    case 'string':
      return JSON.stringify(key);
    case 'number':
      return Object.is(key, -0) ? 'n0' : `n${key}`;
    case 'bigint':
      return `b${String(key)}`;
    default:
      return `bool${String(key)}`;
  }
}

/** A copy built anew, so equality can only be by value. */
const rebuild = (key: Key): Key => (Array.isArray(key) ? [...(key as readonly KeyPart[])] : key);

/** An equal key that shares no identity with `key` and differs where equality allows it. */
function twin(key: Key): Key {
  if (Array.isArray(key)) return (key as readonly KeyPart[]).map((part) => twin(part) as KeyPart);
  if (typeof key === 'number') return key === 0 ? (Object.is(key, 0) ? -0 : 0) : key !== key ? 0 / 0 : key;
  if (typeof key === 'bigint') return BigInt(key.toString());
  return key;
}

/** Key parts from a small domain, so generated keys often collide; full of look-alikes. */
const partArb: fc.Arbitrary<KeyPart> = fc.oneof(
  fc.constantFrom<KeyPart>('a', 'b', '1', '0', 'true', '', '__proto__', 'constructor', 'hasOwnProperty', 'toString'),
  fc.constantFrom<KeyPart>(0, -0, 1, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY),
  fc.constantFrom<KeyPart>(true, false, 0n, 1n, -1n),
);
const keyArb: fc.Arbitrary<Key> = fc.oneof(partArb, fc.array(partArb, { maxLength: 3 }));

/** Key parts over an adversarial alphabet: the encoding's own tag and separator characters. */
const trickyPartArb: fc.Arbitrary<KeyPart> = fc.oneof(
  fc.string({ unit: fc.constantFrom('s', 'n', 'b', 't', 'f', '1', '2', ':', ';', 'a', '-'), maxLength: 5 }),
  fc.integer({ min: -3, max: 12 }),
  fc.constantFrom(-0, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 0.1, 1.5, 1e21, -1e-7),
  fc.double(),
  fc.bigInt({ min: -20n, max: 20n }),
  fc.boolean(),
);
const trickyKeyArb = fc.array(trickyPartArb, { maxLength: 4 });

/** Pairs of array keys: independent, equal twins, and a string part split in two (near-collisions). */
const keyPairArb: fc.Arbitrary<readonly [readonly KeyPart[], readonly KeyPart[]]> = fc.oneof(
  fc.tuple(trickyKeyArb, trickyKeyArb),
  trickyKeyArb.map((k) => [k, twin(k) as KeyPart[]] as const),
  fc.tuple(trickyKeyArb, fc.string({ unit: fc.constantFrom('s', '1', ':', ';', 'a'), maxLength: 6 }), fc.nat(), trickyKeyArb).map(([pre, s, cut, post]) => {
    const at = cut % (s.length + 1);
    return [[...pre, s, ...post], [...pre, s.slice(0, at), s.slice(at), ...post]] as const;
  }),
  fc.tuple(trickyKeyArb, trickyKeyArb).map(([a, b]) => [[...a, ...b], [...a, b.map(String).join('')]] as const),
);

const WHAT_A_KEY_MAY_BE = /a key is a string, number, bigint, boolean or an array of these/;

describe('KeyMap', () => {
  it('behaves like a map keyed by value, keeping first-insertion order (model-based)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(keyArb, fc.integer())), fc.array(keyArb, { maxLength: 5 }), (entries, probes) => {
        const map = new KeyMap<Key, number>();
        const model = new Map<string, { readonly key: Key; value: number }>();
        for (const [key, value] of entries) {
          map.set(rebuild(key), value);
          const id = showKey(key);
          const seen = model.get(id);
          if (seen === undefined) model.set(id, { key, value });
          else seen.value = value;
        }
        expect(map.size).toBe(model.size);
        expect(map.keys().map(showKey)).toEqual([...model.keys()]);
        const visited: string[] = [];
        map.forEach((value, key) => visited.push(`${showKey(key)}=${value}`));
        expect(visited).toEqual([...model].map(([id, { value }]) => `${id}=${value}`));
        for (const { key, value } of model.values()) {
          expect(map.has(rebuild(key))).toBe(true);
          expect(map.get(rebuild(key))).toBe(value);
        }
        for (const probe of probes) {
          expect(map.has(probe)).toBe(model.has(showKey(probe)));
          expect(map.get(probe)).toBe(model.get(showKey(probe))?.value);
        }
      }),
    );
  });

  it('deletes, undoes (restoreAt, truncate) and compacts like a map keyed by value, keeping order (model-based)', () => {
    type Op = { readonly op: 'set' | 'delete'; readonly key: Key; readonly value: number };
    const opArb = fc.record({ op: fc.constantFrom('set' as const, 'delete' as const), key: keyArb, value: fc.integer() });
    const entriesOf = (map: KeyMap<Key, number>): string[] => {
      const out: string[] = [];
      map.forEach((value, key) => out.push(`${showKey(key)}=${value}`));
      return out;
    };
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 30 }), fc.array(opArb, { maxLength: 30 }), (before, during) => {
        const map = new KeyMap<Key, number>();
        const model = new Map<string, number>();
        const apply = (ops: readonly Op[], undo?: { changed: [number, number][]; deleted: [number, Key, number][] }): void => {
          for (const { op, key, value } of ops) {
            const id = showKey(key);
            const slot = map.slotOf(rebuild(key));
            if (op === 'set') {
              if (slot >= 0) {
                undo?.changed.push([slot, map.valueAt(slot)]);
                map.setAt(slot, value);
              } else {
                map.add(rebuild(key), value);
              }
              model.set(id, value);
            } else {
              if (slot >= 0) undo?.deleted.push([slot, map.keyAt(slot)!, map.valueAt(slot)]);
              expect(map.delete(rebuild(key))).toBe(model.delete(id));
            }
          }
        };
        apply(before);
        expect(map.size).toBe(model.size);
        expect(entriesOf(map)).toEqual([...model].map(([id, v]) => `${id}=${v}`));
        const snapshot = entriesOf(map);
        const slotCount = map.slotCount;
        const undo = { changed: [] as [number, number][], deleted: [] as [number, Key, number][] };
        apply(during, undo);
        // Keys added since go first (one may be a deleted key added again), then the old slots come back.
        map.truncate(slotCount);
        for (let i = undo.deleted.length - 1; i >= 0; i--) {
          const [slot, key, value] = undo.deleted[i]!;
          if (slot < slotCount) map.restoreAt(slot, key, value);
        }
        for (let i = undo.changed.length - 1; i >= 0; i--) {
          const [slot, value] = undo.changed[i]!;
          if (slot < slotCount) map.setAt(slot, value);
        }
        expect(entriesOf(map)).toEqual(snapshot);
        map.compact();
        expect(entriesOf(map)).toEqual(snapshot);
        for (const entry of snapshot) expect(map.has(rebuild(before.find((o) => entry.startsWith(`${showKey(o.key)}=`))!.key))).toBe(true);
      }),
    );
  });

  it('compares array keys by value', () => {
    const map = new KeyMap<Key, string>();
    map.set(['card-1', 42], 'x');
    map.set(['card-1', 42], 'y');
    expect(map.size).toBe(1);
    expect(map.get(['card-1', 42])).toBe('y');
    expect(map.has(['card-1', 43])).toBe(false);
    expect(map.has(['card-1'])).toBe(false);
    expect(map.has('card-1')).toBe(false);
  });

  it('keeps keys of different types apart: 1 and "1", true and "true", 1n and 1, [1] and ["1"], "a" and ["a"]', () => {
    const pairs: readonly (readonly [Key, Key])[] = [
      [1, '1'],
      [true, 'true'],
      [false, 'false'],
      [1n, 1],
      [1n, '1'],
      [[1], ['1']],
      [[true], ['t']],
      ['a', ['a']],
      [0, false],
      ['', []],
    ];
    for (const [a, b] of pairs) {
      const map = new KeyMap<Key, string>().set(a, 'a').set(b, 'b');
      expect(map.size, `${showKey(a)} vs ${showKey(b)}`).toBe(2);
      expect(map.get(a)).toBe('a');
      expect(map.get(b)).toBe('b');
    }
  });

  it('treats -0 as 0 and NaN as NaN, alone and inside arrays', () => {
    const map = new KeyMap<Key, string>().set(-0, 'minus zero').set(0, 'zero').set(Number.NaN, 'nan').set(0 / 0, 'nan again');
    map.set([-0, 'x'], 'array minus zero').set([0, 'x'], 'array zero').set([Number.NaN], 'array nan').set([0 / 0], 'array nan again');
    expect(map.size).toBe(4);
    expect(map.get(0)).toBe('zero');
    expect(map.get(-0)).toBe('zero');
    expect(Object.is(map.keys()[0], 0)).toBe(true);
    expect(map.get(Number.NaN)).toBe('nan again');
    expect(map.get([0, 'x'])).toBe('array zero');
    expect(map.get([-0, 'x'])).toBe('array zero');
    expect(map.get([Number.NaN])).toBe('array nan again');
  });

  it('compares bigint keys by value', () => {
    const map = new KeyMap<Key, number>().set(10n, 1).set(BigInt(10), 2).set([BigInt('12345678901234567890')], 3);
    expect(map.size).toBe(2);
    expect(map.get(10n)).toBe(2);
    expect(map.get([12345678901234567890n])).toBe(3);
  });

  it("treats '__proto__', 'constructor' and 'hasOwnProperty' as ordinary keys", () => {
    const names = ['__proto__', 'constructor', 'hasOwnProperty', 'toString', 'valueOf'];
    const map = new KeyMap<Key, number>();
    for (const name of names) {
      expect(map.has(name)).toBe(false);
      expect(map.get(name)).toBeUndefined();
      expect(map.has([name])).toBe(false);
    }
    names.forEach((name, i) => map.set(name, i).set([name], 10 + i));
    expect(map.size).toBe(2 * names.length);
    names.forEach((name, i) => {
      expect(map.get(name)).toBe(i);
      expect(map.get([name])).toBe(10 + i);
    });
    expect(map.keys().filter((k) => !Array.isArray(k))).toEqual(names);
  });

  it('keeps first-insertion order when a key is set again', () => {
    const map = new KeyMap<Key, number>().set('b', 1).set(['a'], 2).set('a', 3).set('b', 4).set(['a'], 5);
    expect(map.keys()).toEqual(['b', ['a'], 'a']);
    const entries: [Key, number][] = [];
    map.forEach((v, k) => entries.push([k, v]));
    expect(entries).toEqual([['b', 4], [['a'], 5], ['a', 3]]);
  });

  it.each([
    ['undefined', undefined],
    ['null', null],
    ['an object', { id: 1 }],
    ['a symbol', Symbol('k')],
    ['a function', () => 1],
    ['an array holding null', [null]],
    ['an array holding undefined', ['a', undefined]],
    ['an array holding an object', [{}]],
    ['a nested array', [[1]]],
  ])('set rejects %s as a key with a TypeError that says what a key may be', (_what, key) => {
    const map = new KeyMap<Key, number>();
    expect(() => map.set(key as unknown as Key, 1)).toThrow(TypeError);
    expect(() => map.set(key as unknown as Key, 1)).toThrow(WHAT_A_KEY_MAY_BE);
    expect(map.size).toBe(0);
  });
});

describe('hashKey', () => {
  it('is a deterministic unsigned 32-bit integer, equal for keys built anew', () => {
    fc.assert(
      fc.property(keyArb, (key) => {
        const h = hashKey(key);
        expect(Number.isInteger(h) && h >= 0 && h < 2 ** 32).toBe(true);
        expect(hashKey(rebuild(key))).toBe(h);
      }),
    );
  });

  it('is equal for equal keys (a key and its twin: -0 for 0, another NaN, a bigint rebuilt, a new array)', () => {
    fc.assert(
      fc.property(keyArb, (key) => {
        const other = twin(key);
        expect(sameKey(key, other)).toBe(true);
        expect(hashKey(other)).toBe(hashKey(key));
      }),
    );
  });

  it('gives equal hashes for equal keys: [1, "a"] twice, -0 and 0, NaN, bigints, [-0] and [0]', () => {
    expect(hashKey([1, 'a'])).toBe(hashKey([1, 'a']));
    expect(hashKey(-0)).toBe(hashKey(0));
    expect(hashKey(Number.NaN)).toBe(hashKey(0 / 0));
    expect(hashKey(BigInt(5))).toBe(hashKey(5n));
    expect(hashKey([-0])).toBe(hashKey([0]));
    expect(hashKey(-1e21)).toBe(hashKey(-1e21));
    expect(hashKey(2.5)).toBe(hashKey(5 / 2));
  });

  const spread = (keys: readonly Key[], numPartitions: number): number[] => {
    const counts = Array.from({ length: numPartitions }, () => 0);
    for (const key of keys) counts[hashKey(key) % numPartitions] = (counts[hashKey(key) % numPartitions] ?? 0) + 1;
    return counts;
  };

  it.each([
    ['string keys', Array.from({ length: 10_000 }, (_, i): Key => `user-${i}`)],
    ['integer keys', Array.from({ length: 10_000 }, (_, i): Key => i)],
    ['multiples of 8', Array.from({ length: 10_000 }, (_, i): Key => i * 8)],
    ['array keys', Array.from({ length: 10_000 }, (_, i): Key => [`card-${i % 100}`, Math.floor(i / 100)])],
    ['bigint keys', Array.from({ length: 10_000 }, (_, i): Key => BigInt(i) * 1_000_000_007n)],
  ])('spreads 10k %s over 8 partitions: none gets more than twice or less than half the mean', (_what, keys) => {
    const counts = spread(keys, 8);
    const mean = keys.length / 8;
    expect(Math.max(...counts)).toBeLessThanOrEqual(2 * mean);
    expect(Math.min(...counts)).toBeGreaterThanOrEqual(mean / 2);
  });

  it('spreads any 2000 distinct strings over 8 partitions: none gets more than twice the mean', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.string({ minLength: 1, maxLength: 12 }), { minLength: 2000, maxLength: 2000 }), (keys) => {
        expect(Math.max(...spread(keys, 8))).toBeLessThanOrEqual(2 * (keys.length / 8));
      }),
      { numRuns: 20 },
    );
  });
});

describe('encodeCompositeKey', () => {
  it('is injective: two arrays of key parts have the same encoding exactly when they are equal by value', () => {
    fc.assert(
      fc.property(keyPairArb, ([a, b]) => {
        expect(encodeCompositeKey(a) === encodeCompositeKey(b)).toBe(sameKey(a, b));
      }),
      { numRuns: 1000 },
    );
  });

  it('keyEquals agrees with equality by value', () => {
    fc.assert(
      fc.property(fc.oneof(keyPairArb, fc.tuple(keyArb, keyArb)), ([a, b]) => {
        expect(keyEquals(a, b)).toBe(sameKey(a, b));
      }),
    );
  });

  it('tells apart arrays whose parts concatenate alike or look alike', () => {
    const lookAlikes: readonly (readonly [KeyPart[], KeyPart[]])[] = [
      [['ab', 'c'], ['a', 'bc']],
      [[1, 2], [12]],
      [['1'], [1]],
      [[1n], [1]],
      [[true], ['t']],
      [[false], ['f']],
      [[], ['']],
      [['s1:a'], ['s', 'a']],
      [['a;'], ['a', ';']],
      [['1;n2'], [1, 2]],
    ];
    for (const [a, b] of lookAlikes) expect(encodeCompositeKey(a), `${showKey(a)} vs ${showKey(b)}`).not.toBe(encodeCompositeKey(b));
  });

  it('encodes -0 as 0 and NaN as NaN', () => {
    expect(encodeCompositeKey([-0])).toBe(encodeCompositeKey([0]));
    expect(encodeCompositeKey([Number.NaN])).toBe(encodeCompositeKey([0 / 0]));
  });

  it('rejects a part that is not a key part with a TypeError that says what a key may be', () => {
    const notParts: readonly unknown[] = [null, undefined, {}, [1], Symbol('s')];
    for (const part of notParts) {
      expect(() => encodeCompositeKey([part as KeyPart])).toThrow(TypeError);
      expect(() => encodeCompositeKey([part as KeyPart])).toThrow(WHAT_A_KEY_MAY_BE);
    }
  });
});
