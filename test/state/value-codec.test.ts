import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkStateValue, decodeValue, encodeValue, encodeValueShared, registerValueType } from '../../state/value-codec.js';
import { isPlainStateValue, walkStateValue } from '../../state/value-walk.js';
import { assertSameValue } from '../kit/same-value.js';

const ADVICE = 'store plain data (objects, arrays, strings, numbers, bigints, booleans, null, Map, Set, Date, Uint8Array) or register the class with registerValueType';

class Point {
  constructor(
    readonly x: number,
    readonly label: unknown,
  ) {}
}
registerValueType({ name: 'test/Point', type: Point, encode: (p) => ({ x: p.x, label: p.label }), decode: (p) => new Point(p.x, p.label) });

class Unregistered {
  readonly n = 1;
}

/** An object with exactly these own data properties, `__proto__` included, on `prototype`. */
function objectOf(entries: readonly (readonly [string, unknown])[], prototype: object | null = Object.prototype): object {
  const object = Object.create(prototype) as object;
  for (const [key, value] of entries) Object.defineProperty(object, key, { value, writable: true, enumerable: true, configurable: true });
  return object;
}

const loneSurrogates = fc.array(fc.constantFrom('a', '\ud800', '\udfff', '😀', '\0'), { maxLength: 4 }).map((parts) => parts.join(''));
const objectKey = fc.oneof(
  fc.constantFrom('__proto__', 'constructor', 'hasOwnProperty', 'toJSON', 'valueOf', '__proto_', 'prototype', '0', '1', '', '\ud800'),
  fc.string({ maxLength: 4 }),
);
const leaf = fc.oneof(
  fc.constantFrom(null, undefined, true, false, -0, 0, NaN, Infinity, -Infinity, '', 2 ** 53, -(2 ** 31) - 1, 2 ** 32),
  fc.double(),
  fc.integer(),
  fc.bigInt(),
  fc.bigInt({ min: -(2n ** 300n), max: 2n ** 300n }),
  fc.constantFrom(2n ** 63n, -(2n ** 63n), 2n ** 64n - 1n, 2n ** 64n, -(2n ** 64n), 2n ** 70n, -(2n ** 70n)),
  fc.string(),
  fc.string({ unit: 'binary' }),
  loneSurrogates,
  fc.date({ noInvalidDate: false }),
  fc.uint8Array({ maxLength: 8 }),
);

/** Every supported state value type, nested. */
const { value: stateValue } = fc.letrec<{ value: unknown; array: unknown[]; object: object; nullObject: object; map: Map<unknown, unknown>; set: Set<unknown>; point: Point }>((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, tie('array'), tie('object'), tie('nullObject'), tie('map'), tie('set'), tie('point')),
  array: fc.array(tie('value'), { maxLength: 4 }),
  object: fc.array(fc.tuple(objectKey, tie('value')), { maxLength: 4 }).map((entries) => objectOf(entries)),
  nullObject: fc.array(fc.tuple(objectKey, tie('value')), { maxLength: 3 }).map((entries) => objectOf(entries, null)),
  map: fc.array(fc.tuple(tie('value'), tie('value')), { maxLength: 4 }).map((entries) => new Map(entries)),
  set: fc.array(tie('value'), { maxLength: 4 }).map((elements) => new Set(elements)),
  point: fc.tuple(fc.double(), tie('value')).map(([x, label]) => new Point(x, label)),
}));

/** Supported values with, sometimes, a part that is not. */
const badLeaf = fc.constantFrom<unknown>(() => 1, Symbol('s'), new Unregistered(), Buffer.from('ab'), new Int16Array(2), new WeakMap(), /x/, new Error('e'), [1, , 3]); // eslint-disable-line no-sparse-arrays
const { value: maybeBadValue } = fc.letrec<{ value: unknown; array: unknown[]; object: object; map: Map<unknown, unknown> }>((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, leaf, badLeaf, tie('array'), tie('object'), tie('map')),
  array: fc.array(tie('value'), { maxLength: 3 }),
  object: fc.array(fc.tuple(objectKey, tie('value')), { maxLength: 3 }).map((entries) => objectOf(entries)),
  map: fc.array(fc.tuple(tie('value'), tie('value')), { maxLength: 3 }).map((entries) => new Map(entries)),
}));

const roundTrip = (value: unknown): unknown => decodeValue(encodeValue(value));

function errorOf(f: () => unknown): unknown {
  try {
    f();
    return undefined;
  } catch (error) {
    return error;
  }
}

describe('encodeValue and decodeValue', () => {
  it('keep every supported value exactly: types, prototypes, -0 and NaN, own keys and entries in order', () => {
    fc.assert(
      fc.property(stateValue, (value) => {
        checkStateValue(value);
        const bytes = encodeValue(value);
        expect(Object.getPrototypeOf(bytes)).toBe(Uint8Array.prototype);
        assertSameValue(decodeValue(bytes), value);
      }),
      { numRuns: 1000 },
    );
  });

  it('do not change the value they encode', () => {
    const make = (): unknown => ({ n: -0, list: [1, -0, new Map([['k', -0]])], tags: new Set(['\ud800']), '\udfff': objectOf([['__proto__', 1]]) });
    const value = make();
    encodeValue(value);
    assertSameValue(value, make());
  });

  it('pin the msgpackr sharp edges: -0, an own __proto__, Map against object, big integers, holes', () => {
    expect(Object.is(roundTrip(-0), -0)).toBe(true);
    assertSameValue(roundTrip({ a: -0, b: [0, -0] }), { a: -0, b: [0, -0] });
    assertSameValue(roundTrip(new Map([['a', 1]])), new Map([['a', 1]]));
    assertSameValue(roundTrip({ a: 1 }), { a: 1 });
    assertSameValue(roundTrip(new Map<unknown, unknown>([[{ k: 1 }, 'object key'], [[1, 2], 'array key'], [1n, 'bigint key'], [NaN, 'NaN key']])), new Map<unknown, unknown>([[{ k: 1 }, 'object key'], [[1, 2], 'array key'], [1n, 'bigint key'], [NaN, 'NaN key']]));
    for (const n of [2n ** 70n, -(2n ** 70n), 2n ** 64n, 2n ** 63n, -(2n ** 63n) - 1n, 0n, -1n]) expect(roundTrip(n)).toBe(n);
    expect(roundTrip(2 ** 53)).toBe(2 ** 53);
    assertSameValue(roundTrip([undefined, null]), [undefined, null]);
    assertSameValue(roundTrip({ u: undefined }), { u: undefined });
    expect(roundTrip(undefined)).toBeUndefined();
  });

  it('decode an own __proto__ key as an own data property, not as the prototype', () => {
    const value = objectOf([['__proto__', { polluted: true }], ['constructor', 'c'], ['toJSON', 2]]);
    const decoded = roundTrip(value) as Record<string, unknown>;
    expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(decoded, '__proto__')).toEqual({ value: { polluted: true }, writable: true, enumerable: true, configurable: true });
    expect(Object.keys(decoded)).toEqual(['__proto__', 'constructor', 'toJSON']);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    assertSameValue(roundTrip({ __proto_: 1 }), { __proto_: 1 });
  });

  it('keep null-prototype objects, strings and keys with lone surrogates, invalid Dates', () => {
    assertSameValue(roundTrip(objectOf([['a', 1]], null)), objectOf([['a', 1]], null));
    expect(roundTrip('a\ud800b')).toBe('a\ud800b');
    assertSameValue(roundTrip({ '\udc00': '\ud800' }), { '\udc00': '\ud800' });
    expect(Number.isNaN((roundTrip(new Date(NaN)) as Date).getTime())).toBe(true);
  });

  it('decode binary as plain Uint8Arrays that own their bytes, from a Buffer too', () => {
    const bytes = Buffer.from(encodeValue({ data: new Uint8Array([1, 2, 3]) }));
    const decoded = decodeValue(bytes) as { data: Uint8Array };
    expect(Object.getPrototypeOf(decoded.data)).toBe(Uint8Array.prototype);
    bytes.fill(0);
    expect([...decoded.data]).toEqual([1, 2, 3]);
  });

  it('store shared references as separate copies', () => {
    const shared = { n: 1 };
    const decoded = roundTrip([shared, shared]) as object[];
    assertSameValue(decoded, [{ n: 1 }, { n: 1 }]);
    expect(decoded[0]).not.toBe(decoded[1]);
  });

  it('decode crafted msgpack without prototype pollution', () => {
    // msgpack {"__proto__": {"polluted": true}} written without the codec's wrapping.
    const crafted = Uint8Array.from([2, 0x81, 0xa9, ...Buffer.from('__proto__'), 0x81, 0xa8, ...Buffer.from('polluted'), 0xc3]);
    const decoded = decodeValue(crafted) as Record<string, unknown>;
    expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(decoded['polluted']).toBeUndefined();
  });
});

describe('checkStateValue', () => {
  it('names the path of the bad part and says what to do', () => {
    expect(() => { checkStateValue({ user: { callback: () => 1 } }); }).toThrow(new TypeError(`state value.user.callback: a function cannot be kept as state; ${ADVICE}`));
    expect(() => { checkStateValue([1, { 'a b': Symbol('s') }], 'initial state of counts'); }).toThrow(new TypeError(`initial state of counts[1]["a b"]: a symbol cannot be kept as state; ${ADVICE}`));
    expect(() => { checkStateValue(new Map([['k', () => 1]])); }).toThrow('state value.get("k"): a function');
    expect(() => { checkStateValue(new Map([[() => 1, 1]])); }).toThrow('state value.keys()[0]: a function');
    expect(() => { checkStateValue(new Set([1, () => 1])); }).toThrow('state value.values()[1]: a function');
    expect(() => { checkStateValue(new Point(1, { f: () => 1 })); }).toThrow("state value (encoded by value type 'test/Point').label.f: a function");
  });

  it('rejects an instance of an unregistered class, naming the class and registerValueType', () => {
    expect(() => { checkStateValue({ a: new Unregistered() }); }).toThrow(TypeError);
    expect(() => { checkStateValue({ a: new Unregistered() }); }).toThrow(/^state value\.a: an instance of class Unregistered cannot be kept as state; call registerValueType\(.*\) for the class, or store plain data/);
    class SubPoint extends Point {}
    expect(() => { checkStateValue(new SubPoint(1, 2)); }).toThrow('an instance of class SubPoint');
    expect(() => { checkStateValue(/x/); }).toThrow('an instance of class RegExp');
    expect(() => { checkStateValue(new WeakMap()); }).toThrow('an instance of class WeakMap');
  });

  it('rejects Buffers and other typed arrays, pointing to Uint8Array', () => {
    expect(() => { checkStateValue(Buffer.from('a')); }).toThrow(/a Buffer cannot be kept as state; copy its bytes into a plain Uint8Array/);
    expect(() => { checkStateValue([new Float64Array(1)]); }).toThrow(/^state value\[0\]: a Float64Array cannot/);
  });

  it('rejects cycles, saying so', () => {
    const object: Record<string, unknown> = { a: 1 };
    object['self'] = object;
    expect(() => { checkStateValue(object); }).toThrow(/^state value\.self: the value contains itself \(a cycle\)/);
    const array: unknown[] = [];
    array.push([array]);
    expect(() => { checkStateValue(array); }).toThrow('state value[0][0]: the value contains itself (a cycle)');
    const map = new Map<string, unknown>();
    map.set('m', map);
    expect(() => encodeValue(map)).toThrow('state value.get("m"): the value contains itself');
    const set = new Set<unknown>();
    set.add({ set });
    expect(() => { checkStateValue(set); }).toThrow('state value.values()[0].set: the value contains itself');
  });

  it('rejects sparse arrays at the hole', () => {
    expect(() => { checkStateValue({ list: [1, , 3] }); }).toThrow(/^state value\.list\[1\]: a sparse array cannot be kept/); // eslint-disable-line no-sparse-arrays
  });

  it('accepts what encodeValue accepts, with the same message', () => {
    fc.assert(
      fc.property(maybeBadValue, (value) => {
        const checked = errorOf(() => { checkStateValue(value); });
        const encoded = errorOf(() => encodeValue(value));
        expect(encoded).toEqual(checked);
        if (checked !== undefined) expect(checked).toBeInstanceOf(TypeError);
      }),
    );
  });
});

describe('encodeValueShared (the commit path: views of one buffer)', () => {
  it('gives the bytes of encodeValue, and earlier results stay intact while more are encoded', () => {
    fc.assert(
      fc.property(fc.array(stateValue, { minLength: 1, maxLength: 30 }), (values) => {
        const shared = values.map((value) => encodeValueShared(value));
        for (const [i, value] of values.entries()) {
          expect([...(shared[i] as Uint8Array)]).toEqual([...encodeValue(value)]);
          assertSameValue(decodeValue(shared[i] as Uint8Array), value);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('keeps values larger than msgpackr\'s buffer, and fails as encodeValue does', () => {
    const big = { text: 'x'.repeat(20_000), list: Array.from({ length: 3_000 }, (_, i) => i * 1.5) };
    const before = encodeValueShared([1, 2]);
    const bytes = encodeValueShared(big);
    expect([...before]).toEqual([...encodeValue([1, 2])]);
    assertSameValue(decodeValue(bytes), big);
    fc.assert(
      fc.property(maybeBadValue, (value) => {
        expect(errorOf(() => encodeValueShared(value))).toEqual(errorOf(() => encodeValue(value)));
      }),
    );
  });
});

describe('isPlainStateValue (the fast path that skips the walk)', () => {
  it('says yes only for values that every walk returns as they are, without a throw', () => {
    fc.assert(
      fc.property(fc.oneof(stateValue, maybeBadValue), (value) => {
        if (!isPlainStateValue(value)) return;
        expect(walkStateValue(value, 'state value', 'wire')).toBe(value);
        expect(walkStateValue(value, 'state value', 'check')).toBe(value);
        expect(walkStateValue(value, 'state value', 'decoded')).toBe(value);
      }),
      { numRuns: 1000 },
    );
  });

  it('says yes for the plain data most state is, and no for every part the walk wraps or rejects', () => {
    const deep: unknown[] = [];
    let inner = deep;
    for (let i = 0; i < 40; i++) inner.push((inner = []));
    const plain = [[{ count: 1, sum: 2.5 }, 1000, 1000, null], 'text', 0, NaN, -Infinity, 2n ** 70n, true, null, undefined, [], {}, { d: new Date(0), b: new Uint8Array(2), s: ['a', 'b'], u: undefined, '😀': '😀' }];
    for (const value of plain) expect(isPlainStateValue(value)).toBe(true);
    const cyclic: unknown[] = [];
    cyclic.push([cyclic]);
    const wrappedOrBad = [-0, 'a\ud800', { '\udc00': 1 }, new Map(), new Set(), objectOf([], null), objectOf([['__proto__', 1]]), objectOf([['constructor', 1]]), new Point(1, 2), () => 1, Symbol('s'), Buffer.from('a'), new Unregistered(), [1, , 3], cyclic, deep]; // eslint-disable-line no-sparse-arrays
    for (const value of wrappedOrBad) {
      expect(isPlainStateValue(value)).toBe(false);
      expect(isPlainStateValue({ nested: [1, value] })).toBe(false);
    }
    // A non-enumerable own constructor: the walk writes the object as entries, so not plain either.
    const hidden = { a: 1 };
    Object.defineProperty(hidden, 'constructor', { value: 1, enumerable: false });
    expect(isPlainStateValue(hidden)).toBe(false);
  });
});

describe('registerValueType', () => {
  it('round-trips instances of a registered class anywhere in a value', () => {
    const value = { points: [new Point(1, 'a'), new Point(-0, new Point(2, new Map([[1, -0]])))] };
    const decoded = roundTrip(value) as typeof value;
    assertSameValue(decoded, value);
    expect(decoded.points[0]).toBeInstanceOf(Point);
  });

  it('rejects a second registration of a name or a class, built-in classes and missing parts', () => {
    class Other {
      readonly other = true;
    }
    const codec = { encode: (): unknown => 1, decode: (): never => { throw new Error('not called'); } };
    expect(() => { registerValueType({ name: 'test/Point', type: Other, ...codec }); }).toThrow(new TypeError("registerValueType: a value type named 'test/Point' is already registered; names must be unique."));
    expect(() => { registerValueType({ name: 'test/Point2', type: Point, ...codec }); }).toThrow(/class Point is already registered as 'test\/Point'/);
    expect(() => { registerValueType({ name: 'test/Map', type: Map, ...codec }); }).toThrow(/Map is supported as state without registration/);
    expect(() => { registerValueType({ name: '', type: Other, ...codec }); }).toThrow(TypeError);
    expect(() => { registerValueType({ name: 'test/NoDecode', type: Other, encode: codec.encode } as never); }).toThrow(TypeError);
  });

  it('makes decoding a value of an unregistered type fail with an Error naming it', () => {
    class Temporary {
      constructor(readonly n: number) {}
    }
    registerValueType({ name: 'test/TemporaryA', type: Temporary, encode: (t) => t.n, decode: (n) => new Temporary(n) });
    const bytes = encodeValue([new Temporary(1)]);
    const at = Buffer.from(bytes).indexOf('test/TemporaryA');
    bytes[at + 'test/Temporary'.length] = 'Z'.charCodeAt(0);
    expect(() => decodeValue(bytes)).toThrow(/a value of type 'test\/TemporaryZ', which is not registered: call registerValueType/);
  });
});

describe('decodeValue errors', () => {
  it.each([
    ['no bytes', [], /no bytes/],
    ['version 0', [0, 0xc0], /unknown envelope version 0 \(this version of sluice reads version 2\)/],
    ['version 1 (the provisional codec)', [1, 0xc0], /unknown envelope version 1/],
    ['version 255', [255], /unknown envelope version 255/],
    ['a version and no body', [2], /Cannot decode a state value \(envelope version 2, 1 bytes\)/],
    ['msgpackr\'s 0xc1 value', [2, 0xc1], /Cannot decode a state value \(envelope version 2, 2 bytes\): the decoded value: an instance of class C1Type cannot be kept as state/],
    ['msgpackr\'s Error extension', [2, 0xd4, 0x65, 0, 0x93, 0xa1, 0x45, 0xa1, 0x6d, 0xc0], /the decoded value: an instance of class Error cannot be kept/],
    ['msgpackr\'s Int16Array extension', [2, 0xc7, 3, 0x74, 3, 0, 1], /the decoded value: an Int16Array cannot be kept/],
    ['trailing bytes', [2, 0xc0, 0xc0], /Cannot decode a state value/],
    ['an unknown extension', [2, 0xd4, 0x7e, 0], /Cannot decode a state value/],
    ['a structured-clone reference', [2, 0xd6, 0x70, 0, 0, 0, 1], /Cannot decode a state value/],
    ['a malformed wrapped value', [2, 0xd4, 0x53, 0, 0xc0], /Cannot decode a state value.*wrapped value without its kind/],
    ['an unknown wrapped value kind', [2, 0xd4, 0x53, 0, 0x91, 0x63], /unknown wrapped value kind 99/],
  ])('rejects %s with an Error saying what was found', (_name, bytes, message) => {
    const error = errorOf(() => decodeValue(Uint8Array.from(bytes)));
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(message);
  });

  it('rejects every proper prefix of an encoded value', () => {
    fc.assert(
      fc.property(stateValue, fc.nat(), (value, cut) => {
        const bytes = encodeValue(value);
        const error = errorOf(() => decodeValue(bytes.subarray(0, cut % bytes.length)));
        expect(error).toBeInstanceOf(Error);
      }),
    );
  });
});
