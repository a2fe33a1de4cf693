import { KEY_GROUPS, keyGroupOf } from '../core/internal.js';
import { decodeKey } from './key-codec.js';
import type { StoreKey } from './state-store.js';

/** A worker's copy of a range of key groups: which worker, and the dispatch (tag) that last wrote it. */
export interface Holding {
  readonly worker: number;
  readonly tag: number;
}

/**
 * The driver's bookkeeping of where a keyed state operator's key groups live (locality of keyed
 * state on worker threads): for each key group, the worker whose cache holds its rows and the tag
 * of the task that last wrote them there; for each range of groups a task covers, the rows that
 * cache holds (exactly: the rows sent to it and those its tasks put, less those they deleted).
 *
 * The driver stays the authority: its store has every row, and a worker's cache is a copy that
 * is trusted only while the bookkeeping says so. A task's tag is new for every dispatch, and a
 * worker runs a task without its rows only when its cache carries the tag the driver recorded, so
 * a copy the driver did not accept (a speculative loser, a task of a batch that failed) is never
 * used. Whatever changes the driver's rows other than a task's accepted result (a failed batch's
 * rollback, rows the driver writes itself) {@link invalidate}s the groups it touched: their next
 * task is sent whole. Memory: the cached rows of each range (a set of row keys per range).
 */
export class KeyGroupPlacement {
  #holder: Int32Array | undefined;
  #tag: Float64Array | undefined;
  /** The rows a range's holder caches, by the range's first group. */
  readonly #known = new Map<number, Set<StoreKey>>();
  /** The recorded tag of each range, by its first group: the oldest is the oldest cache still used. */
  readonly #tags = new Map<number, number>();
  #nextTag = 1;

  /** The worker that holds every group of `[start, end)` under one tag, or `undefined`. */
  holderOf(start: number, end: number): Holding | undefined {
    const holder = this.#holder;
    const tags = this.#tag;
    if (holder === undefined || tags === undefined || start >= end) return undefined;
    const worker = holder[start] as number;
    const tag = tags[start] as number;
    if (worker < 0) return undefined;
    for (let g = start + 1; g < end; g++) if (holder[g] !== worker || tags[g] !== tag) return undefined;
    return { worker, tag };
  }

  /** The rows the holder of the range starting at `start` caches (meaningful while {@link holderOf} gives it). */
  known(start: number): ReadonlySet<StoreKey> | undefined {
    return this.#known.get(start);
  }

  /** A tag for a new dispatch of a task: never given before. */
  newTag(): number {
    return this.#nextTag++;
  }

  /**
   * The oldest tag a worker's cache may still be asked for: a cached range with an older tag is
   * no longer the one the driver records, and the worker may drop it. 0 while nothing is
   * recorded: the tasks in flight (all newer than every recorded tag) may still be recorded.
   */
  oldestLiveTag(): number {
    if (this.#tags.size === 0) return 0;
    let oldest = Number.POSITIVE_INFINITY;
    for (const tag of this.#tags.values()) if (tag < oldest) oldest = tag;
    return oldest;
  }

  /**
   * Records that `worker` ran the task of `[start, end)` dispatched as `tag`, and its cache now
   * holds the range: `whole` when the task was sent whole (the cache was rebuilt from `shipped`),
   * otherwise the rows sent now join what it held. `writes` are the task's writes, flat (row,
   * value, ...; `undefined` for a delete).
   */
  record(start: number, end: number, worker: number, tag: number, shipped: readonly unknown[], writes: readonly unknown[], whole: boolean): void {
    if (start >= end) return;
    this.#holder ??= new Int32Array(KEY_GROUPS).fill(-1);
    this.#tag ??= new Float64Array(KEY_GROUPS);
    this.#holder.fill(worker, start, end);
    this.#tag.fill(tag, start, end);
    this.#tags.set(start, tag);
    let known = whole ? undefined : this.#known.get(start);
    if (known === undefined) {
      known = new Set();
      this.#known.set(start, known);
    }
    for (let i = 0; i < shipped.length; i += 2) known.add(shipped[i] as StoreKey);
    for (let i = 0; i < writes.length; i += 2) {
      if (writes[i + 1] === undefined) known.delete(writes[i] as StoreKey);
      else known.add(writes[i] as StoreKey);
    }
  }

  /** Forgets where the groups `[start, end)` live: their next task is sent whole. */
  invalidate(start: number, end: number): void {
    this.#holder?.fill(-1, start, end);
  }

  /** Forgets where the key group of the key stored as `key` (an encoded key) lives. */
  invalidateKey(key: StoreKey): void {
    const group = keyGroupOf(decodeKey(key));
    this.invalidate(group, group + 1);
  }

  /** Forgets every placement: after a failed batch (the driver's store rolled back), every task is sent whole. */
  invalidateAll(): void {
    this.#holder?.fill(-1);
    this.#known.clear();
    this.#tags.clear();
  }
}
