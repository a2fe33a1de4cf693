import type { StoreKey } from './state-store.js';

/** Chunks split above twice this size and merge with a neighbour below a quarter of it. */
const CHUNK = 256;

/** The index of the first element of the sorted `keys` that is `>= key` (or `> key` when `strict`). */
function lowerBound(keys: readonly StoreKey[], key: StoreKey, strict: boolean): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const k = keys[mid] as StoreKey;
    if (k < key || (strict && k === key)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The keys of a store in key order, as a list of sorted chunks (each at most `2 * CHUNK` long):
 * adding or removing a key costs O(log n + CHUNK), and a walk from any key costs O(log n) to
 * start and O(1) per key.
 */
export class SortedKeyIndex {
  #chunks: StoreKey[][] = [];
  #size = 0;
  /** Bumped on every change, so a walk in progress knows to find its place again. */
  #changes = 0;

  /**
   * An index of `keys`, which must be sorted and distinct, built in one pass: O(n), where adding
   * them one by one costs O(n (log n + CHUNK)). Chunks are CHUNK long, so they have room to grow
   * before they split (a short last chunk joins the one before it). The array is not kept.
   *
   * @throws RangeError when the keys are not in strictly increasing order.
   */
  static fromSorted(keys: readonly StoreKey[]): SortedKeyIndex {
    for (let i = 1; i < keys.length; i++) {
      if (!((keys[i - 1] as StoreKey) < (keys[i] as StoreKey))) {
        throw new RangeError(`SortedKeyIndex.fromSorted: the keys must be sorted and distinct; key ${i} is not above key ${i - 1}.`);
      }
    }
    const index = new SortedKeyIndex();
    const chunks = index.#chunks;
    for (let start = 0; start < keys.length; start += CHUNK) chunks.push(keys.slice(start, start + CHUNK));
    const last = chunks[chunks.length - 1];
    if (chunks.length > 1 && last !== undefined && last.length < CHUNK / 4) {
      chunks.pop();
      (chunks[chunks.length - 1] as StoreKey[]).push(...last);
    }
    index.#size = keys.length;
    return index;
  }

  get size(): number {
    return this.#size;
  }

  /** Adds `key`; false when it was already there. */
  add(key: StoreKey): boolean {
    const chunks = this.#chunks;
    if (chunks.length === 0) {
      chunks.push([key]);
    } else {
      const c = Math.min(this.#chunkOf(key), chunks.length - 1);
      const chunk = chunks[c] as StoreKey[];
      const i = lowerBound(chunk, key, false);
      if (chunk[i] === key) return false;
      chunk.splice(i, 0, key);
      if (chunk.length > 2 * CHUNK) chunks.splice(c, 1, chunk.slice(0, CHUNK), chunk.slice(CHUNK));
    }
    this.#size++;
    this.#changes++;
    return true;
  }

  /** Removes `key`; false when it was not there. */
  delete(key: StoreKey): boolean {
    const chunks = this.#chunks;
    const c = this.#chunkOf(key);
    const chunk = chunks[c];
    if (chunk === undefined) return false;
    const i = lowerBound(chunk, key, false);
    if (chunk[i] !== key) return false;
    chunk.splice(i, 1);
    if (chunk.length === 0) {
      chunks.splice(c, 1);
    } else if (chunk.length < CHUNK / 4) {
      const next = chunks[c + 1];
      if (next !== undefined && chunk.length + next.length <= 2 * CHUNK) chunks.splice(c, 2, chunk.concat(next));
    }
    this.#size--;
    this.#changes++;
    return true;
  }

  /**
   * The keys `gte <= key < lt` in order. The walk survives changes made while it is paused: it
   * goes on from the first key above the last one it gave.
   */
  *keys(gte?: StoreKey, lt?: StoreKey): Generator<StoreKey, void, undefined> {
    let [c, i] = this.#seek(gte, false);
    let changes = this.#changes;
    let last: StoreKey | undefined;
    for (;;) {
      if (changes !== this.#changes) {
        changes = this.#changes;
        [c, i] = last === undefined ? this.#seek(gte, false) : this.#seek(last, true);
      }
      const chunk = this.#chunks[c];
      if (chunk === undefined) return;
      const key = chunk[i];
      if (key === undefined) {
        c++;
        i = 0;
        continue;
      }
      if (lt !== undefined && key >= lt) return;
      last = key;
      yield key;
      i++;
    }
  }

  /** The position of the first key `>= key` (`> key` when `strict`); the start when key is undefined. */
  #seek(key: StoreKey | undefined, strict: boolean): [number, number] {
    if (key === undefined) return [0, 0];
    const c = this.#chunkOf(key);
    const chunk = this.#chunks[c];
    if (chunk === undefined) return [c, 0];
    return [c, lowerBound(chunk, key, strict)];
  }

  /** The first chunk whose last key is `>= key`; the chunk count when there is none. */
  #chunkOf(key: StoreKey): number {
    const chunks = this.#chunks;
    let lo = 0;
    let hi = chunks.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const chunk = chunks[mid] as StoreKey[];
      if ((chunk[chunk.length - 1] as StoreKey) < key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
