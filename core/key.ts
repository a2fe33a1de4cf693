/** A key component: compared by value. */
export type KeyPart = string | number | bigint | boolean;

/**
 * A key of a keyed stream: a string, number, bigint or boolean, or an array of these
 * (`['card-1', 42]`). Keys are compared by value, `-0` equals `0`, `NaN` equals `NaN`, and names
 * such as `'__proto__'` or `'constructor'` are ordinary keys.
 */
export type Key = KeyPart | readonly KeyPart[];

/** A key-value record of a keyed stream. */
export type Pair<K extends Key, V> = readonly [K, V];

/**
 * Encodes an array key as a string that is equal for equal arrays. Each part is tagged with its
 * type, so `['1']` and `[1]` differ.
 */
export function encodeCompositeKey(key: readonly KeyPart[]): string {
  let out = '';
  for (const part of key) {
    switch (typeof part) {
      case 'string':
        out += `s${part.length}:${part}`;
        break;
      case 'number':
        out += `n${Object.is(part, -0) ? 0 : part};`;
        break;
      case 'bigint':
        out += `b${part};`;
        break;
      case 'boolean':
        out += part ? 't' : 'f';
        break;
      default:
        throw new TypeError(`Key part ${describeValue(part)} is not allowed: a key is a string, number, bigint, boolean or an array of these.`);
    }
  }
  return out;
}

/** Whether two keys are equal by value. */
export function keyEquals(a: Key, b: Key): boolean {
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return encodeCompositeKey(a as readonly KeyPart[]) === encodeCompositeKey(b as readonly KeyPart[]);
  }
  return a === b || (a !== a && b !== b);
}

/**
 * A deterministic 32-bit hash of a key, the same in every process and run (it decides a key's
 * partition, and so the order of keyed output).
 */
export function hashKey(key: Key): number {
  if (typeof key === 'string') return hashString(key, 0x811c9dc5);
  if (Array.isArray(key)) return hashString(encodeCompositeKey(key as readonly KeyPart[]), 0x01000193);
  return hashPrimitive(key as Exclude<KeyPart, string>);
}

function hashPrimitive(key: number | bigint | boolean): number {
  switch (typeof key) {
    case 'boolean':
      return key ? 0x2c1b3c6d : 0x297a2d39;
    case 'bigint':
      return hashString(key.toString(), 0x3b9aca07);
    case 'number':
      if (Number.isInteger(key) && Math.abs(key) <= 0x7fffffff) return mix32(key | 0);
      return hashString(Object.is(key, -0) ? '0' : String(key), 0x1b873593);
    default:
      throw new TypeError(`Key ${describeValue(key)} is not allowed: a key is a string, number, bigint, boolean or an array of these. Map your records to [key, value] pairs with such a key.`);
  }
}

function hashString(text: string, seed: number): number {
  let h = seed;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return mix32(h);
}

function mix32(value: number): number {
  let h = value;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * A map from {@link Key} to values that compares keys by value and keeps first-insertion order.
 * Primitive keys go straight into a `Map` (no allocation per lookup); array keys are encoded.
 *
 * Each key has a slot: an index into parallel arrays of keys and values. Reading and then
 * updating a key costs one lookup ({@link slotOf}, then {@link valueAt} and {@link setAt}),
 * nothing is allocated per key, and changes can be undone ({@link restoreAt}, {@link truncate}):
 * the shuffle's and the incremental windows' per-record loops rely on this. Deleted keys leave a
 * hole (`keyAt` gives `undefined`) until {@link compact}.
 */
export class KeyMap<K extends Key, V> {
  #primitive = new Map<KeyPart, number>();
  #composite: Map<string, number> | undefined;
  #keys: (K | undefined)[] = [];
  #values: (V | undefined)[] = [];
  #holes = 0;

  /** The number of keys. */
  get size(): number {
    return this.#keys.length - this.#holes;
  }

  /** The number of slots, holes included: iterate `0 <= slot < slotCount` with {@link keyAt}. */
  get slotCount(): number {
    return this.#keys.length;
  }

  /** The slot of `key`, or -1 when the map does not have it. */
  slotOf(key: K): number {
    const slot = Array.isArray(key) ? this.#composite?.get(encodeCompositeKey(key as readonly KeyPart[])) : this.#primitive.get(key as KeyPart);
    return slot ?? -1;
  }

  /** The key in `slot`, or `undefined` for a deleted key's hole. */
  keyAt(slot: number): K | undefined {
    return this.#keys[slot];
  }

  /** The value in `slot` (a slot from {@link slotOf}, {@link add} or {@link keyAt}). */
  valueAt(slot: number): V {
    return this.#values[slot] as V;
  }

  /** Replaces the value in `slot`. */
  setAt(slot: number, value: V): void {
    this.#values[slot] = value;
  }

  get(key: K): V | undefined {
    const slot = this.slotOf(key);
    return slot < 0 ? undefined : this.#values[slot];
  }

  has(key: K): boolean {
    return this.slotOf(key) >= 0;
  }

  set(key: K, value: V): this {
    const slot = this.slotOf(key);
    if (slot < 0) this.add(key, value);
    else this.#values[slot] = value;
    return this;
  }

  /**
   * Adds `key`, which must not be in the map yet (check with {@link slotOf}), and returns its slot.
   *
   * @throws TypeError when `key` is not a {@link Key}.
   */
  add(key: K, value: V): number {
    const slot = this.#keys.length;
    if (Array.isArray(key)) {
      (this.#composite ??= new Map()).set(encodeCompositeKey(key as readonly KeyPart[]), slot);
      this.#keys.push(key);
    } else {
      assertKeyPart(key);
      const primitive = Object.is(key, -0) ? 0 : key;
      this.#primitive.set(primitive, slot);
      this.#keys.push(primitive as K);
    }
    this.#values.push(value);
    return slot;
  }

  /**
   * The keys and values by slot, as the map holds them (no copy; a deleted key's slot holds
   * `undefined`): plain arrays, to send a map to another thread. Do not change them.
   */
  slots(): { readonly keys: readonly (K | undefined)[]; readonly values: readonly (V | undefined)[] } {
    return { keys: this.#keys, values: this.#values };
  }

  /** Removes `key`; false when the map did not have it. */
  delete(key: K): boolean {
    const slot = this.slotOf(key);
    if (slot < 0) return false;
    if (Array.isArray(key)) this.#composite?.delete(encodeCompositeKey(key as readonly KeyPart[]));
    else this.#primitive.delete(key as KeyPart);
    this.#keys[slot] = undefined;
    this.#values[slot] = undefined;
    this.#holes++;
    return true;
  }

  /**
   * Puts back a key deleted from `slot` (undoing {@link delete}; the slot must still be a hole).
   *
   * @throws RangeError when `slot` is not a hole.
   */
  restoreAt(slot: number, key: K, value: V): void {
    if (slot >= this.#keys.length || this.#keys[slot] !== undefined) throw new RangeError(`KeyMap.restoreAt: slot ${slot} is not a hole.`);
    if (Array.isArray(key)) (this.#composite ??= new Map()).set(encodeCompositeKey(key as readonly KeyPart[]), slot);
    else this.#primitive.set(key as KeyPart, slot);
    this.#keys[slot] = key;
    this.#values[slot] = value;
    this.#holes--;
  }

  /** Removes every key in a slot at or after `slotCount` (undoing the {@link add}s made since it was the count). */
  truncate(slotCount: number): void {
    for (let slot = this.#keys.length - 1; slot >= slotCount; slot--) {
      const key = this.#keys[slot];
      if (key === undefined) this.#holes--;
      else if (Array.isArray(key)) this.#composite?.delete(encodeCompositeKey(key as readonly KeyPart[]));
      else this.#primitive.delete(key as KeyPart);
    }
    this.#keys.length = Math.min(this.#keys.length, slotCount);
    this.#values.length = this.#keys.length;
  }

  /** Drops the holes deleted keys left once they are a quarter of the slots (slots change). */
  compact(): void {
    if (this.#holes * 4 <= this.#keys.length) return;
    const keys = this.#keys;
    const values = this.#values;
    this.#primitive.clear();
    this.#composite?.clear();
    this.#keys = [];
    this.#values = [];
    this.#holes = 0;
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i];
      if (key !== undefined) this.add(key, values[i] as V);
    }
  }

  /** The keys in first-insertion order. */
  keys(): K[] {
    const out: K[] = [];
    this.forEach((_value, key) => out.push(key));
    return out;
  }

  /** Calls `fn` for every entry in first-insertion order. */
  forEach(fn: (value: V, key: K) => void): void {
    const keys = this.#keys;
    const values = this.#values;
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i];
      if (key !== undefined) fn(values[i] as V, key);
    }
  }
}

/**
 * Checks that `key` is a primitive key part (string, number, bigint or boolean).
 *
 * @throws TypeError when it is not, naming it.
 */
export function assertKeyPart(key: unknown): asserts key is KeyPart {
  const type = typeof key;
  if (type !== 'string' && type !== 'number' && type !== 'bigint' && type !== 'boolean') {
    throw new TypeError(`Key ${describeValue(key)} is not allowed: a key is a string, number, bigint, boolean or an array of these. Map your records to [key, value] pairs with such a key.`);
  }
}

/** A short description of a value for error messages: `undefined`, `null`, `object {"a":1}`, ... */
function describeValue(value: unknown): string {
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'bigint':
    case 'boolean':
      return `${typeof value} ${String(value)}`;
    case 'symbol':
      return value.toString();
    case 'function':
      return 'a function';
    case 'undefined':
      return 'undefined';
    default: {
      if (value === null) return 'null';
      let text: string;
      try {
        text = JSON.stringify(value);
      } catch {
        text = Object.prototype.toString.call(value);
      }
      return `${Array.isArray(value) ? 'array' : 'object'} ${text.length > 40 ? `${text.slice(0, 40)}...` : text}`;
    }
  }
}
