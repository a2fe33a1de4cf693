/** What a {@link CacheBudget} asks of the caches it bounds. */
export interface BudgetedCache {
  /** The bytes the cache's entries are counted for. */
  readonly bytes: number;
  /** Drops some of its oldest entries (at least one when it has any), counting them as drops. */
  evictSome(): void;
}

/**
 * A byte budget shared by the state caches of one backend (the stores of every stateful operator
 * of a job): each cache counts its entries' bytes into it, and when the total passes the limit the
 * cache holding the most bytes drops its oldest entries, until the total is back under the limit.
 * So a store that reads a lot takes the room the others do not use, and gives it back first.
 */
export class CacheBudget {
  readonly limit: number;
  #total = 0;
  readonly #caches = new Set<BudgetedCache>();
  #shrinking = false;

  /** @param limit - the bytes the caches may hold together. */
  constructor(limit: number) {
    this.limit = limit;
  }

  /** The bytes the caches hold now. */
  get total(): number {
    return this.#total;
  }

  /** Counts `cache` under this budget (its bytes come in as it adds entries). */
  add(cache: BudgetedCache): void {
    this.#caches.add(cache);
  }

  /** Stops counting `cache`, giving back its bytes. */
  remove(cache: BudgetedCache): void {
    if (this.#caches.delete(cache)) this.#total -= cache.bytes;
  }

  /** A cache's entries grew (or, negative, shrank) by `bytes`; over the limit, the largest cache evicts. */
  change(bytes: number): void {
    this.#total += bytes;
    if (this.#total <= this.limit || this.#shrinking) return;
    this.#shrinking = true;
    try {
      while (this.#total > this.limit) {
        let largest: BudgetedCache | undefined;
        for (const cache of this.#caches) if (cache.bytes > (largest?.bytes ?? 0)) largest = cache;
        if (largest === undefined) break;
        largest.evictSome();
      }
    } finally {
      this.#shrinking = false;
    }
  }
}
