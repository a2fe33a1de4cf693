import type { BudgetedCache, CacheBudget } from './cache-budget.js';

/** A cache entry that records its own use (null entries record none). */
export interface UseMarked {
  used: boolean;
}

/** A byte budget for a cache: the budget it shares, and what one entry counts for. */
export interface CacheBytes<K, V> {
  readonly budget: CacheBudget;
  readonly sizeOf: (key: K, value: V) => number;
}

/**
 * A map that keeps at most `capacity` entries, dropping the least recently used ones,
 * approximately: the CLOCK policy. A hit only marks its entry used; when the cache is over
 * capacity, the oldest entries go, but each one marked used since it was last passed gets a second
 * chance (unmarked and moved to the young end), like an LRU list refreshed only at eviction. A
 * cache that never fills never moves an entry. Null entries are never marked, so they go first.
 *
 * With `bytes`, each entry also counts its size into a budget shared with other caches; when the
 * budget is full, the cache with the most bytes evicts its oldest sixteenth the same way.
 */
export class LruCache<K, V extends UseMarked | null> implements BudgetedCache {
  readonly #entries = new Map<K, V>();
  readonly #capacity: number;
  readonly #budget: CacheBytes<K, V> | undefined;
  #bytes = 0;
  #drops = 0;

  /**
   * @param capacity - the most entries it keeps (`Infinity`: bounded by `bytes` only).
   * @param bytes - the byte budget it shares, if any.
   */
  constructor(capacity: number, bytes?: CacheBytes<K, V>) {
    this.#capacity = capacity;
    this.#budget = bytes;
    bytes?.budget.add(this);
  }

  /** The bytes its entries count for (0 without a budget). */
  get bytes(): number {
    return this.#bytes;
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
    const budget = this.#budget;
    const before = budget === undefined ? undefined : this.#entries.get(key);
    const size = this.#entries.size;
    this.#entries.set(key, value);
    if (this.#entries.size === size) {
      if (value !== null) value.used = true;
      if (budget !== undefined) this.#count(budget.sizeOf(key, value) - budget.sizeOf(key, before as V));
    } else {
      if (budget !== undefined) this.#count(budget.sizeOf(key, value));
      if (this.#entries.size > this.#capacity) this.#evict(Math.ceil(this.#capacity / 16));
    }
  }

  /** Forgets `key` (not counted as a drop). */
  delete(key: K): void {
    const budget = this.#budget;
    if (budget === undefined) {
      this.#entries.delete(key);
      return;
    }
    const value = this.#entries.get(key);
    if (value === undefined && !this.#entries.has(key)) return;
    this.#entries.delete(key);
    this.#count(-budget.sizeOf(key, value as V));
  }

  /** Drops its oldest sixteenth (at least one entry): what its budget asks when it is full. */
  evictSome(): void {
    if (this.#entries.size > 0) this.#evict(Math.max(1, Math.ceil(this.#entries.size / 16)));
  }

  /** Stops counting its entries in its budget (the store closed). */
  release(): void {
    this.#budget?.budget.remove(this);
  }

  #count(bytes: number): void {
    this.#bytes += bytes;
    this.#budget?.budget.change(bytes);
  }

  /**
   * Drops `n` of the oldest entries at once (a sixteenth of the capacity when over it), passing
   * over (unmarking and moving to the young end) those marked used: a new iterator over a `Map`
   * walks past the slots of every entry deleted since its last rehash, so dropping one entry per
   * insertion would cost O(capacity) each time. Entries moved come round again unmarked, so one
   * pass always ends.
   */
  #evict(count: number): void {
    let n = Math.min(count, this.#entries.size);
    if (n === 0) return;
    this.#drops += n;
    const entries = this.#entries;
    const budget = this.#budget;
    let freed = 0;
    for (const [key, value] of entries) {
      entries.delete(key);
      if (value !== null && value.used) {
        value.used = false;
        entries.set(key, value);
      } else {
        if (budget !== undefined) freed += budget.sizeOf(key, value);
        if (--n === 0) break;
      }
    }
    if (freed !== 0) {
      this.#bytes -= freed;
      budget?.budget.change(-freed);
    }
  }

  clear(): void {
    this.#drops += this.#entries.size;
    this.#entries.clear();
    if (this.#bytes !== 0) this.#count(-this.#bytes);
  }
}
