import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { packable, packValue, unpackValue } from '../../../core/parallel/payload-codec.js';

/*
 * The wire of worker tasks: what msgpack carries must arrive exactly as a structured clone
 * delivers it (the pool's old and fallback wire), and what it cannot carry must be found and left
 * to the clone. fast-check prints the seed of a failure (FC_SEED replays it).
 */

/** Whether `a` and `b` are the same value as a structured clone keeps it: types, prototypes, `-0`, key and entry order, holes. */
function identical(a: unknown, b: unknown): boolean {
  if (typeof a !== 'object' || a === null || typeof b !== 'object' || b === null) return Object.is(a, b);
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  if (a instanceof Date) return Object.is(a.getTime(), (b as Date).getTime());
  if (a instanceof Map || a instanceof Set) {
    const x = [...(a as Map<unknown, unknown>).entries()];
    const y = [...(b as Map<unknown, unknown>).entries()];
    return identical(x, y);
  }
  if (ArrayBuffer.isView(a)) return identical([...(a as Uint8Array)], [...(b as Uint8Array)]) && (a as Uint8Array).byteOffset === (b as Uint8Array).byteOffset;
  const ka = Reflect.ownKeys(a);
  const kb = Reflect.ownKeys(b);
  if (ka.length !== kb.length || ka.some((k, i) => k !== kb[i])) return false;
  return ka.every((k) => identical((a as Record<PropertyKey, unknown>)[k], (b as Record<PropertyKey, unknown>)[k]));
}

/** Any value a record may hold, the awkward ones included: Maps, Sets, Dates (invalid too), bigints, -0, lone surrogates, holes, typed arrays, objects without a prototype, boxed values. */
const anyValue = fc.anything({
  withMap: true,
  withSet: true,
  withDate: true,
  withBigInt: true,
  withNullPrototype: true,
  withTypedArray: true,
  withSparseArray: true,
  withBoxedValues: true,
  withObjectString: true,
  stringUnit: 'binary',
  maxDepth: 4,
});

/** Records as tasks carry them: numbers, strings, `[key, value]` pairs, flat objects. */
const record = fc.oneof(
  fc.double(),
  fc.string({ unit: 'binary' }),
  fc.tuple(fc.oneof(fc.string(), fc.integer()), anyValue),
  fc.record({ key: fc.string(), value: fc.oneof(fc.double(), fc.bigInt(), fc.constant(undefined), fc.constant(null)), at: fc.date({ noInvalidDate: false }) }),
);

describe('payload codec', () => {
  it('delivers every value it calls packable exactly as a structured clone does', () => {
    fc.assert(
      fc.property(fc.oneof(anyValue, fc.array(record, { maxLength: 30 })), (value) => {
        const clone = structuredClone(value);
        if (!packable(value)) return;
        const bytes = packValue(value, true);
        expect(bytes).toBeInstanceOf(Uint8Array);
        const back = unpackValue(bytes as Uint8Array);
        expect(identical(back, clone)).toBe(true);
      }),
      { numRuns: 400 },
    );
  });

  it('calls packable most plain records (so the fast wire is not dead code)', () => {
    let packed = 0;
    fc.assert(
      fc.property(fc.array(record, { maxLength: 30 }), (records) => {
        if (packable(records)) packed++;
      }),
      { numRuns: 500 },
    );
    expect(packed).toBeGreaterThan(100);
  });

  it('leaves to the structured clone what msgpack would change: -0, lone surrogates, holes, typed arrays, objects without a prototype, __proto__ keys, class instances, cycles', () => {
    const cyclic: unknown[] = [];
    cyclic.push(cyclic);
    const sparse = [1, , 3]; // eslint-disable-line no-sparse-arrays
    const awkward: unknown[] = [
      -0,
      [1, -0],
      'a\uD800b',
      { ['\uDC00']: 1 },
      sparse,
      new Uint8Array([1, 2]),
      Object.create(null) as unknown,
      JSON.parse('{"__proto__": 1}') as unknown,
      new (class Point { x = 1 })(),
      cyclic,
      new Map([[1, new Float64Array(1)]]),
      /re/,
      new Error('e'),
    ];
    for (const value of awkward) {
      expect(packable(value)).toBe(false);
      expect(packValue(value, true)).toBeUndefined();
    }
  });

  it('packs only values with many small objects: flat arrays and small values go by structured clone, which copies them faster', () => {
    const numbers = Array.from({ length: 5000 }, (_, i) => i);
    const pairs = Array.from({ length: 5000 }, (_, i) => [`k${i % 100}`, i]);
    const objects = Array.from({ length: 5000 }, (_, i) => ({ key: `k${i}`, value: i }));
    expect(packValue({ input: numbers })).toBeUndefined();
    expect(packValue({ input: pairs.slice(0, 10) })).toBeUndefined();
    expect(unpackValue(packValue({ input: pairs }) as Uint8Array)).toEqual({ input: pairs });
    expect(unpackValue(packValue(objects) as Uint8Array)).toEqual(objects);
  });
});
