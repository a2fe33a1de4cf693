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

/** One entry of a {@link KeyMap}: its key and its value, which may be changed in place. */
export interface KeyEntry<K extends Key, V> {
  readonly key: K;
  value: V;
}

/**
 * A map from {@link Key} to values that compares keys by value and keeps first-insertion order.
 * Primitive keys go straight into a `Map` (no allocation per lookup); array keys are encoded.
 * Each key has one entry object, so reading and then updating a key costs one lookup
 * ({@link entryOf}, then assign `value`), which the shuffle's per-record loops rely on.
 */
export class KeyMap<K extends Key, V> {
  readonly #primitive = new Map<KeyPart, KeyEntry<K, V>>();
  #composite: Map<string, KeyEntry<K, V>> | undefined;
  readonly #entries: KeyEntry<K, V>[] = [];

  /** The number of keys. */
  get size(): number {
    return this.#entries.length;
  }

  /** The entry of `key`, or undefined: assign its `value` to update the key in place. */
  entryOf(key: K): KeyEntry<K, V> | undefined {
    return Array.isArray(key) ? this.#composite?.get(encodeCompositeKey(key as readonly KeyPart[])) : this.#primitive.get(key as KeyPart);
  }

  get(key: K): V | undefined {
    return this.entryOf(key)?.value;
  }

  has(key: K): boolean {
    return this.entryOf(key) !== undefined;
  }

  set(key: K, value: V): this {
    const entry = this.entryOf(key);
    if (entry === undefined) this.add(key, value);
    else entry.value = value;
    return this;
  }

  /**
   * Adds `key`, which must not be in the map yet (check with {@link entryOf}), and returns its entry.
   *
   * @throws TypeError when `key` is not a {@link Key}.
   */
  add(key: K, value: V): KeyEntry<K, V> {
    let entry: KeyEntry<K, V>;
    if (Array.isArray(key)) {
      entry = { key, value };
      (this.#composite ??= new Map()).set(encodeCompositeKey(key as readonly KeyPart[]), entry);
    } else {
      assertKeyPart(key);
      const primitive = Object.is(key, -0) ? 0 : key;
      entry = { key: primitive as K, value };
      this.#primitive.set(primitive, entry);
    }
    this.#entries.push(entry);
    return entry;
  }

  /** The keys in first-insertion order. */
  keys(): K[] {
    return this.#entries.map((e) => e.key);
  }

  /** The entries in first-insertion order (do not add to or remove from the array). */
  entries(): readonly KeyEntry<K, V>[] {
    return this.#entries;
  }

  /** Calls `fn` for every entry in first-insertion order. */
  forEach(fn: (value: V, key: K) => void): void {
    const entries = this.#entries;
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i] as KeyEntry<K, V>;
      fn(e.value, e.key);
    }
  }
}

function assertKeyPart(key: unknown): asserts key is KeyPart {
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
