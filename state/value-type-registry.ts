/**
 * A class whose instances can be kept as state: how to turn an instance into supported plain data
 * and back. See {@link registerValueType}.
 */
export interface ValueType<T extends object, P> {
  /** A stable name, unique in the process: it is stored with every encoded instance. */
  readonly name: string;
  /** The class. Only its own instances use this codec (a subclass needs its own registration). */
  readonly type: abstract new (...args: never[]) => T;
  /** Turns an instance into a supported state value (plain data, see `checkStateValue`). */
  readonly encode: (value: T) => P;
  /** Rebuilds an instance from what `encode` returned, after it went through the store. */
  readonly decode: (plain: P) => T;
}

/** A registration with its types erased, as the value walker uses it. */
export interface RegisteredValueType {
  readonly name: string;
  readonly encode: (value: object) => unknown;
  readonly decode: (plain: unknown) => object;
}

const byPrototype = new Map<object, RegisteredValueType>();
const byName = new Map<string, RegisteredValueType>();

/** Classes the value codec supports without registration. */
const BUILT_IN: readonly (abstract new (...args: never[]) => object)[] = [Object, Array, Map, Set, Date, Uint8Array];

/**
 * Lets instances of a class be kept as state: the value codec stores `encode(instance)` (which
 * must be a supported state value) under `name`, and `decode` rebuilds the instance on reading.
 * Register at startup, before any state is read, in every process that reads the state.
 *
 * @throws TypeError when the name or the class is already registered, the class is one the codec
 * supports natively, or an argument is missing.
 * @example
 * registerValueType({
 *   name: 'Money',
 *   type: Money,
 *   encode: (m) => ({ cents: m.cents, currency: m.currency }),
 *   decode: (p) => new Money(p.cents, p.currency),
 * });
 */
export function registerValueType<T extends object, P>(valueType: ValueType<T, P>): void {
  const { name, type, encode, decode } = valueType;
  if (typeof name !== 'string' || name === '') throw new TypeError('registerValueType: name must be a non-empty string.');
  if (typeof type !== 'function' || typeof type.prototype !== 'object' || type.prototype === null) {
    throw new TypeError(`registerValueType('${name}'): type must be a class.`);
  }
  if (typeof encode !== 'function' || typeof decode !== 'function') throw new TypeError(`registerValueType('${name}'): encode and decode must be functions.`);
  if (BUILT_IN.includes(type)) throw new TypeError(`registerValueType('${name}'): ${type.name} is supported as state without registration.`);
  if (byName.has(name)) throw new TypeError(`registerValueType: a value type named '${name}' is already registered; names must be unique.`);
  const existing = byPrototype.get(type.prototype as object);
  if (existing) throw new TypeError(`registerValueType('${name}'): class ${type.name} is already registered as '${existing.name}'.`);
  const registered: RegisteredValueType = {
    name,
    encode: encode as (value: object) => unknown,
    decode: decode as (plain: unknown) => object,
  };
  byPrototype.set(type.prototype as object, registered);
  byName.set(name, registered);
}

/** The registration for instances whose prototype is `prototype`, if any. */
export function valueTypeOf(prototype: object): RegisteredValueType | undefined {
  return byPrototype.get(prototype);
}

/** The registration named `name`, if any. */
export function valueTypeNamed(name: string): RegisteredValueType | undefined {
  return byName.get(name);
}
