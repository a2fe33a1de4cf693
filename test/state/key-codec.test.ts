import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Key, KeyPart } from 'sluice';
import { bytesToStoreKey, decodeKey, encodeKey, encodeKeyPrefix, storeKeyToBytes } from '../../state/key-codec.js';

/** Strings from a small alphabet, so that equal strings, prefixes and '\0' come up often. */
const smallString = fc.string({ unit: fc.constantFrom('\0', '\x01', '\x02', 'a', 'b', '\x7f', '\x80', 'é', '\uffff', '😀', '\ud800', '\udc00', '\udbff'), maxLength: 5 });
/** Any UTF-16 code units, lone surrogates included. */
const utf16String = fc.array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 12 }).map((units) => String.fromCharCode(...units));
const stringArb = fc.oneof(smallString, fc.string(), fc.string({ unit: 'binary' }), utf16String);

const specialNumbers = fc.constantFrom(0, -0, NaN, Infinity, -Infinity, Number.MIN_VALUE, -Number.MIN_VALUE, Number.MAX_VALUE, -Number.MAX_VALUE, 1, -1);
const numberArb = fc.oneof(specialNumbers, fc.double(), fc.integer({ min: -3, max: 3 }), fc.integer());

const hugeBigint = fc.bigInt({ min: -(2n ** 2100n), max: 2n ** 2100n });
const bigintArb = fc.oneof(fc.bigInt({ min: -300n, max: 300n }), fc.bigInt(), hugeBigint, fc.constantFrom(0n, 255n, 256n, -255n, -256n, 2n ** 2032n, 2n ** 2040n, -(2n ** 2040n)));

const partArbs = { boolean: fc.boolean(), number: numberArb, bigint: bigintArb, string: stringArb } as const;
type PartType = keyof typeof partArbs;
const partTypeArb = fc.constantFrom<PartType>('boolean', 'number', 'bigint', 'string');
const partArb: fc.Arbitrary<KeyPart> = fc.oneof(...Object.values(partArbs));
const keyArb: fc.Arbitrary<Key> = fc.oneof(partArb, fc.array(partArb, { maxLength: 5 }));

/** Two keys of the same shape and part types (arrays may differ in length). */
const sameShapePair: fc.Arbitrary<readonly [Key, Key]> = fc.oneof(
  partTypeArb.chain((t) => fc.tuple(partArbs[t], partArbs[t])),
  fc.array(partTypeArb, { maxLength: 4 }).chain((types) => {
    const parts = (n: number): fc.Arbitrary<KeyPart[]> => fc.tuple(...types.slice(0, n).map((t) => partArbs[t] as fc.Arbitrary<KeyPart>));
    return fc.tuple(fc.nat({ max: types.length }), fc.nat({ max: types.length })).chain(([m, n]) => fc.tuple(parts(m), parts(n)));
  }),
);

const TYPE_RANK: Record<PartType, number> = { boolean: 0, number: 1, bigint: 2, string: 3 };

/** The documented natural order: array keys before single keys; parts by type, then by value. */
function compareKeys(a: Key, b: Key): number {
  const aArray = Array.isArray(a);
  if (aArray !== Array.isArray(b)) return aArray ? -1 : 1;
  if (!aArray) return compareParts(a as KeyPart, b as KeyPart);
  const x = a as readonly KeyPart[];
  const y = b as readonly KeyPart[];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const c = compareParts(x[i] as KeyPart, y[i] as KeyPart);
    if (c !== 0) return c;
  }
  return Math.sign(x.length - y.length);
}

function compareParts(a: KeyPart, b: KeyPart): number {
  const ta = typeof a as PartType;
  const tb = typeof b as PartType;
  if (ta !== tb) return Math.sign(TYPE_RANK[ta] - TYPE_RANK[tb]);
  if (typeof a === 'string') return compareCodePoints(a, b as string);
  if (typeof a === 'number' && (Number.isNaN(a) || Number.isNaN(b))) return Number(Number.isNaN(a)) - Number(Number.isNaN(b));
  return a < b ? -1 : a > b ? 1 : 0;
}

function codePoints(text: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < text.length; i += out[out.length - 1] as number > 0xffff ? 2 : 1) out.push(text.codePointAt(i) as number);
  return out;
}

function compareCodePoints(a: string, b: string): number {
  const x = codePoints(a);
  const y = codePoints(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return (x[i] as number) < (y[i] as number) ? -1 : 1;
  return Math.sign(x.length - y.length);
}

const compareStrings = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Same key by value, and the same JavaScript types (arrays as arrays); `-0` is `0`. */
function sameKey(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => sameKey(x, b[i]));
  }
  return typeof a === typeof b && (a === b || (Number.isNaN(a) && Number.isNaN(b)));
}

describe('encodeKey and decodeKey', () => {
  it('round-trip every key by value, arrays as arrays', () => {
    fc.assert(
      fc.property(keyArb, (key) => {
        const decoded = decodeKey(encodeKey(key));
        expect(sameKey(decoded, key)).toBe(true);
        if (Object.is(key, -0)) expect(Object.is(decoded, 0)).toBe(true);
      }),
    );
  });

  it('produce binary strings: every char is a byte', () => {
    fc.assert(
      fc.property(keyArb, (key) => {
        for (const c of encodeKey(key)) expect(c.charCodeAt(0)).toBeLessThanOrEqual(0xff);
      }),
    );
  });

  it('order keys of the same shape and types as their natural order (numbers and bigints numerically, strings by code point, arrays part by part)', () => {
    fc.assert(
      fc.property(sameShapePair, ([a, b]) => {
        expect(compareStrings(encodeKey(a), encodeKey(b))).toBe(compareKeys(a, b));
      }),
      { numRuns: 2000 },
    );
  });

  it('order any two keys by the documented cross-type order, so equal keys encode equally and different keys differently', () => {
    fc.assert(
      fc.property(keyArb, keyArb, (a, b) => {
        expect(compareStrings(encodeKey(a), encodeKey(b))).toBe(compareKeys(a, b));
      }),
      { numRuns: 2000 },
    );
  });

  it('byte order of storeKeyToBytes is string order, and bytesToStoreKey inverts it', () => {
    fc.assert(
      fc.property(keyArb, keyArb, (a, b) => {
        const [x, y] = [encodeKey(a), encodeKey(b)];
        const [bx, by] = [storeKeyToBytes(x), storeKeyToBytes(y)];
        expect(Object.getPrototypeOf(bx)).toBe(Uint8Array.prototype);
        expect(Buffer.compare(bx, by)).toBe(compareStrings(x, y));
        expect(bytesToStoreKey(bx)).toBe(x);
      }),
    );
  });

  it('pins the cross-type order and the edge cases of each type', () => {
    const ordered: Key[] = [
      [], [false], ['a'],
      false, true,
      -Infinity, -Number.MAX_VALUE, -1, -Number.MIN_VALUE, 0, Number.MIN_VALUE, 1, Number.MAX_VALUE, Infinity, NaN,
      -(2n ** 2100n), -(2n ** 64n), -256n, -255n, -1n, 0n, 1n, 255n, 256n, 2n ** 64n, 2n ** 2100n,
      '', '\0', '\0\0', '\0\x01', '\x01', '\x01\0', '\x02', 'a', 'a\0', 'a\0b', 'a\x01', 'a\x02', 'ab', '\x7f', '\x80', '\ud800', '\ud800a', '\udc00', '\uffff', '😀', '😀\0',
    ];
    const encoded = ordered.map(encodeKey);
    expect([...encoded].sort()).toEqual(encoded);
    expect(new Set(encoded).size).toBe(ordered.length);
  });

  it('treats -0 as 0 and every NaN alike, and keeps 1 and 1n, "a" and ["a"] apart', () => {
    expect(encodeKey(-0)).toBe(encodeKey(0));
    expect(encodeKey([-0, 'x'])).toBe(encodeKey([0, 'x']));
    expect(encodeKey(NaN)).toBe(encodeKey(Number('x')));
    expect(encodeKey(new Float64Array(new BigUint64Array([0x7ff8000000000001n]).buffer)[0] as number)).toBe(encodeKey(NaN));
    expect(encodeKey(1)).not.toBe(encodeKey(1n));
    expect(encodeKey('a')).not.toBe(encodeKey(['a']));
    expect(encodeKey('1')).not.toBe(encodeKey(1));
    expect(encodeKey('__proto__')).not.toBe(encodeKey('constructor'));
  });
});

describe('encodeKeyPrefix', () => {
  it('is a prefix of the encoding of every array key that starts with its parts', () => {
    fc.assert(
      fc.property(fc.array(partArb, { maxLength: 5 }), fc.nat({ max: 5 }), (key, n) => {
        expect(encodeKey(key).startsWith(encodeKeyPrefix(key.slice(0, n)))).toBe(true);
      }),
    );
  });

  it('matches exactly the array keys starting with its parts', () => {
    const smallPart = fc.oneof(fc.boolean(), fc.integer({ min: -1, max: 1 }), fc.bigInt({ min: -1n, max: 1n }), smallString);
    const smallKey: fc.Arbitrary<Key> = fc.oneof(smallPart, fc.array(smallPart, { maxLength: 3 }));
    fc.assert(
      fc.property(smallKey, fc.array(smallPart, { maxLength: 2 }), (key, prefix) => {
        const startsWith = Array.isArray(key) && key.length >= prefix.length && prefix.every((part, i) => sameKey(part, (key as readonly KeyPart[])[i]));
        expect(encodeKey(key).startsWith(encodeKeyPrefix(prefix))).toBe(startsWith);
      }),
      { numRuns: 2000 },
    );
  });

  it("matches ['card-1'] and ['card-1', 42], not ['card-10'] nor the single key 'card-1'", () => {
    const prefix = encodeKeyPrefix(['card-1']);
    expect(encodeKey(['card-1']).startsWith(prefix)).toBe(true);
    expect(encodeKey(['card-1', 42]).startsWith(prefix)).toBe(true);
    expect(encodeKey(['card-10']).startsWith(prefix)).toBe(false);
    expect(encodeKey('card-1').startsWith(prefix)).toBe(false);
    expect(encodeKeyPrefix([])).toBe(encodeKey([]));
  });

  it("does not match a string part that merely starts with its string part's bytes (regression: [''] matched ['\\0'])", () => {
    expect(encodeKey(['\0']).startsWith(encodeKeyPrefix(['']))).toBe(false);
    expect(encodeKey(['a\0']).startsWith(encodeKeyPrefix(['a']))).toBe(false);
    expect(encodeKey(['a\x01', 1]).startsWith(encodeKeyPrefix(['a']))).toBe(false);
    expect(encodeKey(['', false]).startsWith(encodeKeyPrefix(['']))).toBe(true);
  });
});

describe('key codec errors', () => {
  it.each([
    ['an object', {}],
    ['a nested array', ['a', ['b']]],
    ['undefined', undefined],
    ['null', null],
    ['a symbol', Symbol('k')],
    ['a function', () => 1],
    ['a hole in an array', [1, , 2]], // eslint-disable-line no-sparse-arrays
    ['undefined in an array', ['a', undefined]],
    ['a Date', new Date(0)],
  ])('encodeKey throws a TypeError saying what a key may be for %s', (_name, key) => {
    expect(() => encodeKey(key as Key)).toThrow(TypeError);
    expect(() => encodeKey(key as Key)).toThrow(/a key is a string, number, bigint or boolean, or an array of these/);
  });

  it('names the bad part of an array key', () => {
    expect(() => encodeKey(['a', 1, null] as unknown as Key)).toThrow('Key part 2 (null) is not allowed');
    expect(() => encodeKeyPrefix(['a', {}] as unknown as KeyPart[])).toThrow(TypeError);
    expect(() => encodeKeyPrefix('a' as unknown as KeyPart[])).toThrow(TypeError);
  });

  const s = String.fromCharCode;
  const number1 = encodeKey(1);
  it.each([
    ['an empty string', '', /empty string/],
    ['an unknown tag', s(0x07), /unknown type tag 0x07/],
    ['a truncated number', number1.slice(0, 5), /a number needs 8 bytes/],
    ['bytes after a single part', `${number1}\x20`, /bytes after the end/],
    ['a char above 0xff', s(0x50, 0x100, 0), /not a byte|not a UTF-8 lead byte/],
    ['a string without terminator', s(0x50, 0x61), /without its 0x00 terminator/],
    ['an unknown escape', s(0x50, 0x01, 0x03, 0), /an escape other than 0x01 0x01 or 0x01 0x02/],
    ['an escape cut by the terminator', s(0x50, 0x61, 0x01, 0), /an escape other than/],
    ['an escape at the end', s(0x50, 0x01), /without its 0x00 terminator/],
    ['an invalid UTF-8 lead byte', s(0x50, 0xc0, 0x80, 0), /not a UTF-8 lead byte/],
    ['a truncated UTF-8 sequence', s(0x50, 0xe2, 0x82, 0), /truncated UTF-8/],
    ['an overlong UTF-8 sequence', s(0x50, 0xe0, 0x80, 0x80, 0), /overlong/],
    ['a code point above U+10FFFF', s(0x50, 0xf4, 0x90, 0x80, 0x80, 0), /out-of-range/],
    ['a surrogate pair as two 3-byte sequences', s(0x50, 0xed, 0xa0, 0x80, 0xed, 0xb0, 0x80, 0), /surrogate pair written as two/],
    ['-0', s(0x30, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), /-0/],
    ['a non-canonical NaN', s(0x30, 0xff, 0xf8, 0, 0, 0, 0, 0, 1), /canonical/],
    ['a negative zero bigint', s(0x40, 0xff), /negative zero/],
    ['a bigint with a leading zero', s(0x41, 2, 0, 1), /leading zero/],
    ['a short bigint in the long form', s(0x41, 0xff, 0, 0, 0, 1, 1), /long form/],
    ['a truncated bigint', s(0x41, 3, 1), /runs past the end/],
    ['a bigint without its length', s(0x41), /ends inside a part/],
  ])('decodeKey rejects %s with an Error naming the problem', (_name, encoded, message) => {
    expect(() => decodeKey(encoded)).toThrow(message);
    expect(() => decodeKey(encoded)).toThrow(/^Malformed store key at byte \d+: .* \(key bytes: [0-9a-f ]*\)\.$/);
  });

  it('decodeKey accepts only canonical encodings: a damaged key either fails with an Error or is the encoding of what it decodes to', () => {
    const damaged = fc.tuple(keyArb, fc.nat(), fc.integer({ min: 0, max: 0xff }), fc.constantFrom('replace', 'insert', 'delete')).map(([key, at, byte, how]) => {
      const e = encodeKey(key);
      const i = e.length === 0 ? 0 : at % e.length;
      const b = String.fromCharCode(byte);
      return how === 'replace' ? e.slice(0, i) + b + e.slice(i + 1) : how === 'insert' ? e.slice(0, i) + b + e.slice(i) : e.slice(0, i) + e.slice(i + 1);
    });
    fc.assert(
      fc.property(damaged, (encoded) => {
        let decoded: Key;
        try {
          decoded = decodeKey(encoded);
        } catch (error) {
          expect(error).toBeInstanceOf(Error);
          expect((error as Error).message).toMatch(/^Malformed store key/);
          return;
        }
        expect(encodeKey(decoded)).toBe(encoded);
      }),
      { numRuns: 3000 },
    );
  });

  it('storeKeyToBytes rejects a string that is not binary', () => {
    expect(() => storeKeyToBytes('a\u0100')).toThrow(TypeError);
  });
});
