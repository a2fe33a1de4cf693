import type { StoreKey } from 'sluice/state';
import type { TimeWindow } from './time-window.js';

/** A live window of a key (the key in the key codec's encoding). */
export interface KeyedWindow {
  readonly key: StoreKey;
  readonly window: TimeWindow;
}

/**
 * The live windows of an event-time window operator, by end: what the operator fires and evicts
 * when the watermark passes. Kept in memory (a state-store scan per batch would cost every batch
 * a walk of the index), and rebuilt from the store's rows when it cannot be trusted: after a
 * start, or after a batch that did not commit. `generation` is the id of the batch whose state
 * it reflects; the operator stores the same id in the store with every batch, so a mismatch
 * (a batch aborted, or nothing built yet) means rebuild.
 *
 * Windows come out in a defined order that does not depend on history (so a replayed batch
 * emits the same records in the same order, ARCHITECTURE section 5): by end, then start, then a
 * hash of the encoded key, then the encoded key. Sorting by a number is several times cheaper
 * than sorting the key strings.
 */
export class LiveWindows {
  /** end → encoded key → start (a key has at most one live window with a given end). */
  readonly #byEnd = new Map<number, Map<StoreKey, number>>();
  /** The ends in `#byEnd`, ascending. */
  #ends: number[] = [];
  /** The batch whose state this reflects; undefined until built. */
  generation: number | undefined;

  /** Forgets everything (before a rebuild). */
  clear(): void {
    this.#byEnd.clear();
    this.#ends = [];
    this.generation = undefined;
  }

  /** Marks window `w` of `key` live. */
  add(key: StoreKey, w: TimeWindow): void {
    let keys = this.#byEnd.get(w.end);
    if (keys === undefined) {
      keys = new Map();
      this.#byEnd.set(w.end, keys);
      const ends = this.#ends;
      let i = ends.length;
      while (i > 0 && (ends[i - 1] as number) > w.end) i--;
      ends.splice(i, 0, w.end);
    }
    keys.set(key, w.start);
  }

  /** Forgets window `w` of `key`. */
  remove(key: StoreKey, w: TimeWindow): void {
    const keys = this.#byEnd.get(w.end);
    if (keys?.get(key) !== w.start) return;
    keys.delete(key);
    if (keys.size === 0) {
      this.#byEnd.delete(w.end);
      this.#ends.splice(this.#ends.indexOf(w.end), 1);
    }
  }

  /** The live windows that end at or before `time`, in the defined order. */
  endingUpTo(time: number): KeyedWindow[] {
    const out: KeyedWindow[] = [];
    for (const end of this.#ends) {
      if (end > time) break;
      this.#appendEnd(end, out);
    }
    return out;
  }

  /** Every live window, in the defined order. */
  all(): KeyedWindow[] {
    const out: KeyedWindow[] = [];
    for (const end of this.#ends) this.#appendEnd(end, out);
    return out;
  }

  #appendEnd(end: number, out: KeyedWindow[]): void {
    const keys = this.#byEnd.get(end) as Map<StoreKey, number>;
    const list = [...keys.keys()];
    const starts = new Float64Array(list.length);
    let sameStart = true;
    let i = 0;
    let first = Number.NaN;
    for (const start of keys.values()) {
      if (i === 0) first = start;
      else if (start !== first) sameStart = false;
      starts[i++] = start;
    }
    for (const index of orderOf(list, sameStart ? undefined : starts)) {
      out.push({ key: list[index] as StoreKey, window: { start: starts[index] as number, end } });
    }
  }
}

/** FNV-1a of a string, 32 bits. */
function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Up to this many keys, a key's hash and its index pack exactly into one double (32 + 21 bits). */
const PACKED_LIMIT = 2 ** 21;

/**
 * The indexes of `keys` in the defined order: by `starts` (when given), then by hash, then by
 * the key itself.
 */
function orderOf(keys: readonly StoreKey[], starts: Float64Array | undefined): Uint32Array | number[] {
  const n = keys.length;
  if (starts === undefined && n < PACKED_LIMIT) {
    // One start: sort hash * 2^21 + index as plain numbers, then order equal hashes by key.
    const packed = new Float64Array(n);
    for (let i = 0; i < n; i++) packed[i] = hash32(keys[i] as StoreKey) * PACKED_LIMIT + i;
    packed.sort();
    const order = new Uint32Array(n);
    for (let i = 0; i < n; i++) order[i] = (packed[i] as number) % PACKED_LIMIT;
    for (let i = 0; i < n; ) {
      let j = i + 1;
      const h = Math.floor((packed[i] as number) / PACKED_LIMIT);
      while (j < n && Math.floor((packed[j] as number) / PACKED_LIMIT) === h) j++;
      if (j - i > 1) order.subarray(i, j).sort((a, b) => compareStrings(keys[a] as StoreKey, keys[b] as StoreKey));
      i = j;
    }
    return order;
  }
  const hashes = keys.map(hash32);
  return Array.from({ length: n }, (_, i) => i).sort(
    (a, b) =>
      (starts === undefined ? 0 : (starts[a] as number) - (starts[b] as number)) ||
      (hashes[a] as number) - (hashes[b] as number) ||
      compareStrings(keys[a] as StoreKey, keys[b] as StoreKey),
  );
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
