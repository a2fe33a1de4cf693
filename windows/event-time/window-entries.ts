import { hashKey } from 'sluice/extend';
import type { Key, KeyPart } from 'sluice';
import { encodeCompositeKey } from '../../core/internal.js';

/** A composite key's entry: the key as given and its value. */
interface CompositeEntry {
  readonly key: readonly KeyPart[];
  value: unknown;
}

/**
 * The entries of one slot of the {@link WindowTable}: key → value, keys compared by value as
 * `KeyMap` compares them (`-0` is `0`, arrays by their parts), values never `undefined` (absent).
 * Primitive keys go straight into a `Map` as its keys, with the values as its values: reading and
 * writing a key is what a hand-written `Map` does (`get`, then `set`), where `KeyMap`'s slots add a
 * second array access per read and two array pushes per new key. The table needs no slots: it
 * logs keys, not positions, for undo. Array keys are kept under their encoding.
 *
 * Iteration (`forEach`) gives primitive keys in insertion order, then array keys in insertion
 * order: no order the operator relies on (its output is sorted, see `orderOf`).
 */
export class WindowEntries {
  readonly #primitive = new Map<KeyPart, unknown>();
  #composite: Map<string, CompositeEntry> | undefined;

  /** The number of keys. */
  get size(): number {
    return this.#primitive.size + (this.#composite?.size ?? 0);
  }

  /** The value of `key`, or `undefined`. */
  get(key: Key): unknown {
    if (Array.isArray(key)) return this.#composite?.get(encodeCompositeKey(key as readonly KeyPart[]))?.value;
    return this.#primitive.get(key as KeyPart);
  }

  /**
   * Sets the value of `key` (not `undefined`).
   *
   * @throws TypeError when a new `key` is not a {@link Key} (nothing is set).
   */
  set(key: Key, value: unknown): void {
    if (Array.isArray(key)) {
      const id = encodeCompositeKey(key as readonly KeyPart[]);
      const composite = (this.#composite ??= new Map<string, CompositeEntry>());
      const entry = composite.get(id);
      if (entry === undefined) composite.set(id, { key: key as readonly KeyPart[], value });
      else entry.value = value;
      return;
    }
    const primitive = this.#primitive;
    const before = primitive.size;
    primitive.set(key as KeyPart, value);
    // Checked only when the key is new (a key already in is one): hashKey throws for a non-key.
    if (primitive.size !== before && typeof key !== 'string') {
      try {
        hashKey(key);
      } catch (error) {
        primitive.delete(key as KeyPart);
        throw error;
      }
    }
  }

  /** Removes `key`; false when it was not there. */
  delete(key: Key): boolean {
    if (Array.isArray(key)) return this.#composite?.delete(encodeCompositeKey(key as readonly KeyPart[])) ?? false;
    return this.#primitive.delete(key as KeyPart);
  }

  /**
   * Copies every entry, in `forEach`'s order, into `keys`, `values` and `hashes` (each key's
   * `hashKey`), from index 0; each must hold `size` items. One pass, no call per entry beyond the
   * `Map`'s: for the operator's closing windows, which order their keys by hash.
   */
  collect(keys: Key[], values: unknown[], hashes: Uint32Array): void {
    let i = 0;
    this.#primitive.forEach((value, key) => {
      keys[i] = key;
      values[i] = value;
      hashes[i++] = hashKey(key);
    });
    this.#composite?.forEach((entry) => {
      keys[i] = entry.key;
      values[i] = entry.value;
      hashes[i++] = hashKey(entry.key);
    });
  }

  /** Calls `visit` with every entry: primitive keys, then array keys, each in insertion order. */
  forEach(visit: (value: unknown, key: Key) => void): void {
    this.#primitive.forEach((value, key) => { visit(value, key); });
    this.#composite?.forEach((entry) => { visit(entry.value, entry.key); });
  }
}
