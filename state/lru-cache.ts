/**
 * A map that keeps at most `capacity` entries, dropping the least recently used ones (a `Map`
 * keeps insertion order, so re-inserting an entry on use makes the first entry the oldest).
 */
export class LruCache<K, V> {
  readonly #entries = new Map<K, V>();
  readonly #capacity: number;

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The entry of `key`, marked as just used; undefined when it is not cached. */
  get(key: K): V | undefined {
    const value = this.#entries.get(key);
    if (value !== undefined) {
      this.#entries.delete(key);
      this.#entries.set(key, value);
    }
    return value;
  }

  /** Caches `value` (never undefined) for `key` as the most recently used entry. */
  set(key: K, value: V): void {
    if (this.#capacity === 0) return;
    this.#entries.delete(key);
    this.#entries.set(key, value);
    if (this.#entries.size > this.#capacity) this.#evict();
  }

  /**
   * Drops the oldest sixteenth of the entries at once: a new iterator over a `Map` walks past the
   * slots of every entry deleted since its last rehash, so dropping one entry per insertion would
   * cost O(capacity) each time.
   */
  #evict(): void {
    let n = Math.ceil(this.#capacity / 16);
    for (const key of this.#entries.keys()) {
      this.#entries.delete(key);
      if (--n === 0) break;
    }
  }

  clear(): void {
    this.#entries.clear();
  }
}
