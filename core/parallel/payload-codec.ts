import { Packr } from 'msgpackr';

/*
 * How task payloads and results cross a thread: msgpack bytes (msgpackr, with records for plain
 * objects) when the value is one msgpackr carries exactly as a structured clone would and holds
 * many small objects, else the value itself, by structured clone. Measured (bench/README.md, S8
 * wire format): a round trip of 10,000 records by msgpack takes half the time of a structured
 * clone for objects, `[key, value]` pairs or arrays of small arrays (1.2× to 2.2× as fast), but
 * 1.2× to 1.6× the time for flat arrays of numbers or strings, which a structured clone copies
 * fast; so a value goes by msgpack only when it has at least one object or array for every
 * {@link LEAVES_PER_OBJECT} primitives in it.
 */

/**
 * One Packr per thread, the same options on both sides. Records (`useRecords`) store each object
 * shape's keys once per message: the shapes travel inside every message (no `structures` option,
 * so nothing is shared between messages or threads, and a worker decodes any message alone).
 * `moreTypes` for Set; bigints of any size (int64, else msgpackr's bigint extension) decoded as
 * bigints; `undefined` kept apart from `null`; Maps stay Maps (msgpack maps are decoded as Maps
 * when records are on, objects come back from records).
 */
const packr = new Packr({
  useRecords: true,
  structuredClone: false,
  moreTypes: true,
  useBigIntExtension: true,
  int64AsType: 'bigint',
  encodeUndefinedAsNil: false,
});

/** Objects deeper than this are sent by structured clone (and a cycle is found this way). */
const MAX_DEPTH = 64;

/** Where msgpack starts to win: at most this many primitives for each object or array. */
const LEAVES_PER_OBJECT = 4;
/** Values with fewer objects than this go by clone, whatever their shape (too small to matter). */
const MIN_OBJECTS = 1000;

/** An array at least this long whose first item is a primitive ends a walk for packing: it is flat data. */
const FLAT_ARRAY = 64;

/** The objects (arrays included) and primitives the current walk met. */
let objects = 0;
let leaves = 0;
/** Whether the current walk stops at the first long flat array (deciding, not checking). */
let stopAtFlat = false;

/**
 * Whether msgpack bytes carry `value` as a structured clone would: `null`, `undefined`, booleans,
 * numbers but `-0`, bigints, well-formed strings (no lone surrogate), and, holding only these,
 * arrays without holes, plain objects (prototype `Object.prototype`, no own `__proto__` key,
 * well-formed keys), `Map`, `Set` and `Date`, nested less than 64 deep (a cycle is not). Anything
 * else (typed arrays, class instances, objects without a prototype, `RegExp`, `Error`,
 * functions) is left to the structured clone, which copies it or refuses it as it does today.
 *
 * Two differences are not detected (finding them costs as much as the clone): an object met twice
 * in the value (a shared reference) arrives as two equal objects, where a clone keeps one; and
 * properties other than indices on an array are dropped. Task functions are pure functions of
 * their input, so neither changes a result.
 */
export function packable(value: unknown): boolean {
  return walkAll(value, false) === 'exact';
}

/**
 * Whether `value` should go as msgpack: {@link packable}, and many small objects for its size.
 * A long flat array ends the walk at its first item, so that flat data costs no walk.
 */
function worthPacking(value: unknown): boolean {
  return walkAll(value, true) === 'exact' && objects >= MIN_OBJECTS && objects * LEAVES_PER_OBJECT >= leaves;
}

function walkAll(value: unknown, stop: boolean): 'exact' | 'not' {
  objects = 0;
  leaves = 0;
  stopAtFlat = stop;
  try {
    return walk(value, 0) ? 'exact' : 'not';
  } catch {
    // A getter that throws: the structured clone will throw it.
    return 'not';
  }
}

/** `String.prototype.isWellFormed` (Node 20; the compiler's lib predates it): no lone surrogate, which UTF-8 cannot carry. */
const wellFormed = (text: string): boolean => (text as unknown as { isWellFormed(): boolean }).isWellFormed();

function walk(value: unknown, depth: number): boolean {
  if (typeof value !== 'object' || value === null) leaves++;
  switch (typeof value) {
    case 'number':
      return value !== 0 || 1 / value > 0;
    case 'string':
      return wellFormed(value);
    case 'boolean':
    case 'undefined':
    case 'bigint':
      return true;
    case 'object':
      return value === null || walkObject(value, depth);
    default:
      return false;
  }
}

function walkObject(value: object, depth: number): boolean {
  if (depth >= MAX_DEPTH) return false;
  objects++;
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto === Array.prototype) {
    const array = value as unknown[];
    if (stopAtFlat && array.length >= FLAT_ARRAY && (typeof array[0] !== 'object' || array[0] === null)) return false;
    for (let i = 0; i < array.length; i++) {
      const item = array[i];
      if (item === undefined ? !(i in array) : !walk(item, depth + 1)) return false;
    }
    return true;
  }
  if (proto === Object.prototype) {
    for (const key in value) {
      if (key === '__proto__' || !wellFormed(key) || !walk((value as Record<string, unknown>)[key], depth + 1)) return false;
    }
    return true;
  }
  if (proto === Map.prototype) {
    for (const [k, v] of value as Map<unknown, unknown>) if (!walk(k, depth + 1) || !walk(v, depth + 1)) return false;
    return true;
  }
  if (proto === Set.prototype) {
    for (const item of value as Set<unknown>) if (!walk(item, depth + 1)) return false;
    return true;
  }
  return proto === Date.prototype;
}

/**
 * `value` as msgpack bytes in an array of their own (msgpackr packs into a buffer it reuses, and
 * a posted view would copy all of that buffer), or `undefined` when it should go by structured
 * clone: it is not {@link packable}, or (unless `always`) it is mostly flat data or small, which
 * a clone copies faster.
 */
export function packValue(value: unknown, always = false): Uint8Array | undefined {
  if (!(always ? packable(value) : worthPacking(value))) return undefined;
  let body: Uint8Array;
  try {
    body = packr.pack(value);
  } catch {
    return undefined;
  }
  const bytes = new Uint8Array(body.length);
  bytes.set(body);
  return bytes;
}

/** The value {@link packValue} packed. */
export function unpackValue(bytes: Uint8Array): unknown {
  return packr.unpack(bytes);
}
