import { checkStoreKey, inBounds, type KeyBounds } from './key-range.js';
import type { StoreKey } from './state-store.js';

/** Marks a staged delete (no state value is a symbol, so it cannot collide with one). */
export const DELETED: unique symbol = Symbol('deleted');

/** A staged write: the value put, or {@link DELETED}. */
export type StagedWrite = unknown;

/** An entry of a store or of its staged writes, in key order. */
export type StoreEntry = readonly [StoreKey, unknown];

/** The writes a store has staged for the version being built: the last write of each key. */
export class StagedWrites {
  readonly #writes = new Map<StoreKey, StagedWrite>();

  /** How many keys have a staged write. */
  get size(): number {
    return this.#writes.size;
  }

  /**
   * Stages `value` for `key`. The value is not checked here: callers check state values when
   * they are updated (`checkStateValue`), and walking each value twice would cost every update.
   *
   * @throws TypeError when the key is not a store key.
   */
  put(key: StoreKey, value: unknown): void {
    checkStoreKey(key);
    this.#writes.set(key, value);
  }

  /** Stages the removal of `key`; a TypeError when it is not a store key. */
  delete(key: StoreKey): void {
    checkStoreKey(key);
    this.#writes.set(key, DELETED);
  }

  /** Whether `key` has a staged write (a put or a delete). */
  has(key: StoreKey): boolean {
    return this.#writes.has(key);
  }

  /** The staged write of `key`: its value or {@link DELETED}; call {@link has} first. */
  get(key: StoreKey): StagedWrite {
    return this.#writes.get(key);
  }

  /** Every staged write, in staging order. */
  entries(): IterableIterator<[StoreKey, StagedWrite]> {
    return this.#writes.entries();
  }

  /** Calls `visit` with every staged write, in staging order (no entry array per write). */
  forEach(visit: (write: StagedWrite, key: StoreKey) => void): void {
    this.#writes.forEach(visit);
  }

  /** The staged writes within `bounds` (deletes included), in key order. */
  within(bounds: KeyBounds): StoreEntry[] {
    const out: StoreEntry[] = [];
    for (const entry of this.#writes) if (inBounds(entry[0], bounds)) out.push(entry);
    return out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  }

  clear(): void {
    this.#writes.clear();
  }
}

/**
 * Merges committed entries with staged writes, both in key order: a staged put overrides or adds
 * an entry, a staged delete hides one. Stops after `limit` entries.
 */
export async function* mergeStaged(
  committed: AsyncIterable<StoreEntry> | Iterable<StoreEntry>,
  staged: readonly StoreEntry[],
  limit: number,
): AsyncGenerator<StoreEntry, void, undefined> {
  if (limit <= 0) return;
  let emitted = 0;
  let i = 0;
  for await (const entry of committed) {
    const key = entry[0];
    let next = staged[i];
    while (next !== undefined && next[0] < key) {
      if (next[1] !== DELETED) {
        yield next;
        if (++emitted >= limit) return;
      }
      next = staged[++i];
    }
    let current: StoreEntry = entry;
    if (next !== undefined && next[0] === key) {
      i++;
      if (next[1] === DELETED) continue;
      current = next;
    }
    yield current;
    if (++emitted >= limit) return;
  }
  for (; i < staged.length; i++) {
    const next = staged[i] as StoreEntry;
    if (next[1] === DELETED) continue;
    yield next;
    if (++emitted >= limit) return;
  }
}
