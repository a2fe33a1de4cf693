/** A cache entry that records its own use (null entries record none). */
export interface UseMarked {
  used: boolean;
}

/**
 * A map that keeps at most `capacity` entries, dropping the least recently used ones,
 * approximately: the CLOCK policy. A hit only marks its entry used; when the cache is over
 * capacity, the oldest entries go, but each one marked used since it was last passed gets a second
 * chance (unmarked and moved to the young end), like an LRU list refreshed only at eviction. A
 * cache that never fills never moves an entry. Null entries are never marked, so they go first.
 */
export class LruCache<K, V extends UseMarked | null> {
  readonly #entries = new Map<K, V>();
  readonly #capacity: number;
  #drops = 0;

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  get size(): number {
    return this.#entries.size;
  }

  /**
   * How many entries the cache has let go of without being asked (evicted, or not kept at all
   * with a capacity of 0, or cleared) since it was made. While it stays the same, the cache holds
   * every entry `set` since, but those `delete`d.
   */
  get drops(): number {
    return this.#drops;
  }

  /** The entry of `key`, marked as used; undefined when it is not cached. */
  get(key: K): V | undefined {
    const value = this.#entries.get(key);
    if (value != null) value.used = true;
    return value;
  }

  /**
   * Caches `value` (never undefined) for `key`: as the youngest entry when the key is new, in
   * place and marked used when it replaces the key's entry.
   */
  set(key: K, value: V): void {
    if (this.#capacity === 0) {
      this.#drops++;
      return;
    }
    const size = this.#entries.size;
    this.#entries.set(key, value);
    if (this.#entries.size === size) {
      if (value !== null) value.used = true;
    } else if (this.#entries.size > this.#capacity) {
      this.#evict();
    }
  }

  /** Forgets `key` (not counted as a drop). */
  delete(key: K): void {
    this.#entries.delete(key);
  }

  /**
   * Drops the oldest sixteenth of the entries at once, passing over (unmarking and moving to the
   * young end) those marked used: a new iterator over a `Map` walks past the slots of every entry
   * deleted since its last rehash, so dropping one entry per insertion would cost O(capacity) each
   * time. Entries moved come round again unmarked, so one pass always ends.
   */
  #evict(): void {
    let n = Math.ceil(this.#capacity / 16);
    this.#drops += n;
    const entries = this.#entries;
    for (const [key, value] of entries) {
      entries.delete(key);
      if (value !== null && value.used) {
        value.used = false;
        entries.set(key, value);
      } else if (--n === 0) {
        break;
      }
    }
  }

  clear(): void {
    this.#drops += this.#entries.size;
    this.#entries.clear();
  }
}
