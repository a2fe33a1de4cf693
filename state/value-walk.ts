/** Walks a state value: checks it can be kept, and wraps what msgpack would not keep exactly. */
import { MAP, NEGATIVE_ZERO_WIRE, NULL_PROTOTYPE_OBJECT, OBJECT, REGISTERED, SET, utf16Wire, Wire } from './value-wire.js';
import { valueTypeOf, type RegisteredValueType } from './value-type-registry.js';

/** The state value types, as error messages list them. */
export const SUPPORTED_TYPES = 'objects, arrays, strings, numbers, bigints, booleans, null, Map, Set, Date, Uint8Array';
const ADVICE = `store plain data (${SUPPORTED_TYPES}) or register the class with registerValueType`;

/** A part that cannot be kept; each container on the way up adds its step to the path. */
class Unsupported extends Error {
  readonly path: string[] = [];
  constructor(readonly problem: string) {
    super(problem);
  }
}

/**
 * The objects being walked, outermost first, to find cycles. A walk started from inside another
 * (a registered type's `encode` calling the codec) uses the part above `base`.
 */
const ancestors: object[] = [];
let base = 0;

const nativeIsWellFormed = (String.prototype as unknown as { isWellFormed: (this: string) => boolean }).isWellFormed;
const isWellFormed = (text: string): boolean => nativeIsWellFormed.call(text);

/**
 * How to walk: `check` a value before it is kept; turn it into its `wire` form for msgpack; or
 * check a `decoded` value (registered instances are then trusted, not encoded again).
 */
export type WalkMode = 'check' | 'wire' | 'decoded';
let mode: WalkMode = 'check';

/**
 * Walks a state value and throws when a part of it cannot be kept. In `wire` mode, returns it in a
 * form msgpack carries exactly: the value itself when nothing in it needs wrapping, else a copy of
 * the containers down to each part replaced by a {@link Wire}. Otherwise returns `value`, and
 * allocates nothing for a tree of plain data.
 *
 * @throws TypeError `<what><path of the part>: <what is wrong and what to do>`.
 */
export function walkStateValue(value: unknown, what: string, walkMode: WalkMode): unknown {
  const toWire = walkMode === 'wire';
  if ((typeof value !== 'object' || value === null) && typeof value !== 'function' && typeof value !== 'symbol') {
    return toWire ? visit(value, true) : value;
  }
  const outerBase = base;
  const outerMode = mode;
  base = ancestors.length;
  mode = walkMode;
  try {
    const out = visit(value, toWire);
    base = outerBase;
    mode = outerMode;
    return out;
  } catch (error) {
    ancestors.length = base;
    base = outerBase;
    mode = outerMode;
    // eslint-disable-next-line preserve-caught-error -- Unsupported only carries the path here; it is no cause.
    if (error instanceof Unsupported) throw new TypeError(`${what}${error.path.reverse().join('')}: ${error.problem}`);
    throw error;
  }
}

/** How deep {@link isPlainStateValue} looks before it leaves a value to the walk (a cycle ends there). */
const PLAIN_DEPTH = 32;

/**
 * Whether `value` is plain data, which every mode of {@link walkStateValue} would return as it is
 * without a throw: primitives (but `-0` and strings with a lone surrogate), Dates, Uint8Arrays,
 * and arrays without holes and plain objects (prototype `Object.prototype`, no own `__proto__` or
 * `constructor`, well-formed keys) of plain data, at most {@link PLAIN_DEPTH} levels deep.
 *
 * The common case, answered without the walk's bookkeeping (module state, cycle and path
 * tracking, copies): callers skip the walk when it says yes. A `false` only means "walk it": the
 * walk wraps or rejects what it must, and names the path of a bad part.
 */
export function isPlainStateValue(value: unknown): boolean {
  return isPlain(value, 0);
}

function isPlain(value: unknown, depth: number): boolean {
  switch (typeof value) {
    case 'number':
      return value !== 0 || 1 / value > 0;
    case 'string':
      return isWellFormed(value);
    case 'boolean':
    case 'bigint':
    case 'undefined':
      return true;
    case 'object': {
      if (value === null) return true;
      if (depth === PLAIN_DEPTH) return false;
      const prototype = Object.getPrototypeOf(value) as object | null;
      if (prototype === Array.prototype) {
        const array = value as readonly unknown[];
        for (let i = 0; i < array.length; i++) if (!(i in array) || !isPlain(array[i], depth + 1)) return false;
        return true;
      }
      if (prototype === Object.prototype) {
        const object = value as Record<string, unknown>;
        if (Object.hasOwn(object, '__proto__') || Object.hasOwn(object, 'constructor')) return false;
        for (const key in object) if (Object.hasOwn(object, key) && (!isWellFormed(key) || !isPlain(object[key], depth + 1))) return false;
        return true;
      }
      return prototype === Date.prototype || prototype === Uint8Array.prototype;
    }
    default:
      return false;
  }
}

function visit(value: unknown, toWire: boolean): unknown {
  switch (typeof value) {
    case 'number':
      return toWire && value === 0 && 1 / value < 0 ? NEGATIVE_ZERO_WIRE : value;
    case 'string':
      return toWire && !isWellFormed(value) ? utf16Wire(value) : value;
    case 'boolean':
    case 'bigint':
    case 'undefined':
      return value;
    case 'object':
      return value === null ? null : visitObject(value, toWire);
    default:
      throw new Unsupported(`a ${typeof value} cannot be kept as state; ${ADVICE}`);
  }
}

function visitObject(value: object, toWire: boolean): unknown {
  const prototype = Object.getPrototypeOf(value) as object | null;
  if (prototype === Date.prototype || prototype === Uint8Array.prototype) return value;
  if (ancestors.indexOf(value, base) >= 0) {
    throw new Unsupported('the value contains itself (a cycle), and state must be a tree: keep an id instead of the back reference');
  }
  ancestors.push(value);
  let out: unknown;
  if (prototype === Object.prototype || prototype === null) out = visitPlainObject(value as Record<string, unknown>, prototype === null, toWire);
  else if (prototype === Array.prototype) out = visitArray(value as unknown[], toWire);
  else if (prototype === Map.prototype) out = visitMap(value as Map<unknown, unknown>, toWire);
  else if (prototype === Set.prototype) out = visitSet(value as Set<unknown>, toWire);
  else out = visitInstance(value, prototype, toWire);
  ancestors.pop();
  return out;
}

function visitPlainObject(object: Record<string, unknown>, nullPrototype: boolean, toWire: boolean): unknown {
  // msgpack maps keep an object exactly unless it has a null prototype, an own `__proto__` (msgpackr
  // decodes it as `__proto_`), an own `constructor` (msgpackr then takes it for a class instance) or
  // a key with a lone surrogate: those objects, and objects with a wrapped value, become entries.
  let entries: unknown[] | undefined;
  if (toWire && (nullPrototype || Object.hasOwn(object, '__proto__') || Object.hasOwn(object, 'constructor'))) {
    entries = [nullPrototype ? NULL_PROTOTYPE_OBJECT : OBJECT];
  }
  let key = '';
  let count = 0;
  try {
    for (key in object) {
      if (!Object.hasOwn(object, key)) continue;
      const child = object[key];
      const out = visit(child, toWire);
      if (toWire) {
        const wellFormed = isWellFormed(key);
        if (entries === undefined && (!wellFormed || !Object.is(out, child))) entries = entriesBefore(object, count);
        entries?.push(wellFormed ? key : utf16Wire(key), out);
      }
      count++;
    }
  } catch (error) {
    if (error instanceof Unsupported) error.path.push(/^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`);
    throw error;
  }
  return entries === undefined ? object : new Wire(entries);
}

/** An OBJECT payload with the first `count` own properties of `object` (they needed no wrapping). */
function entriesBefore(object: Record<string, unknown>, count: number): unknown[] {
  const entries: unknown[] = [OBJECT];
  let n = 0;
  for (const key in object) {
    if (n === count) break;
    if (!Object.hasOwn(object, key)) continue;
    entries.push(key, object[key]);
    n++;
  }
  return entries;
}

function visitArray(array: readonly unknown[], toWire: boolean): unknown {
  let copy: unknown[] | undefined;
  let i = 0;
  try {
    for (; i < array.length; i++) {
      if (!(i in array)) throw new Unsupported('a sparse array cannot be kept as state (this index is a hole); fill the holes with null or undefined');
      const child = array[i];
      const out = visit(child, toWire);
      if (copy === undefined && !Object.is(out, child)) copy = array.slice(0, i);
      copy?.push(out);
    }
  } catch (error) {
    if (error instanceof Unsupported) error.path.push(`[${i}]`);
    throw error;
  }
  return copy ?? array;
}

function visitMap(map: ReadonlyMap<unknown, unknown>, toWire: boolean): unknown {
  const payload: unknown[] | undefined = toWire ? [MAP] : undefined;
  let index = 0;
  let key: unknown;
  let inKey = true;
  try {
    for (const [k, v] of map) {
      key = k;
      inKey = true;
      const keyOut = visit(k, toWire);
      inKey = false;
      const valueOut = visit(v, toWire);
      payload?.push(keyOut, valueOut);
      index++;
    }
  } catch (error) {
    if (error instanceof Unsupported) error.path.push(inKey ? `.keys()[${index}]` : `.get(${mapKeyForPath(key, index)})`);
    throw error;
  }
  return payload ? new Wire(payload) : map;
}

function mapKeyForPath(key: unknown, index: number): string {
  switch (typeof key) {
    case 'string':
      return JSON.stringify(key);
    case 'bigint':
      return `${key}n`;
    case 'number':
    case 'boolean':
    case 'undefined':
      return String(key);
    default:
      return key === null ? 'null' : `<key ${index}>`;
  }
}

function visitSet(set: ReadonlySet<unknown>, toWire: boolean): unknown {
  const payload: unknown[] | undefined = toWire ? [SET] : undefined;
  let index = 0;
  try {
    for (const element of set) {
      const out = visit(element, toWire);
      payload?.push(out);
      index++;
    }
  } catch (error) {
    if (error instanceof Unsupported) error.path.push(`.values()[${index}]`);
    throw error;
  }
  return payload ? new Wire(payload) : set;
}

function visitInstance(value: object, prototype: object, toWire: boolean): unknown {
  const registered: RegisteredValueType | undefined = valueTypeOf(prototype);
  if (registered === undefined) throw new Unsupported(unsupportedInstance(value, prototype));
  if (mode === 'decoded') return value;
  const plain = registered.encode(value);
  let out: unknown;
  try {
    out = visit(plain, toWire);
  } catch (error) {
    if (error instanceof Unsupported) error.path.push(` (encoded by value type '${registered.name}')`);
    throw error;
  }
  return toWire ? new Wire([REGISTERED, registered.name, out]) : value;
}

function unsupportedInstance(value: object, prototype: object): string {
  const constructor = Object.getOwnPropertyDescriptor(prototype, 'constructor')?.value as unknown;
  const name = typeof constructor === 'function' && constructor.name !== '' ? constructor.name : 'anonymous';
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) {
    return `${/^[AEIOU]/.test(name) ? 'an' : 'a'} ${name} cannot be kept as state; copy its bytes into a plain Uint8Array (new Uint8Array(...)), or ${ADVICE}`;
  }
  return `an instance of class ${name} cannot be kept as state; call registerValueType({ name, type: ${name}, encode, decode }) for the class, or store plain data (${SUPPORTED_TYPES})`;
}

