import { encodeKey, hashKey, KeyMap } from 'sluice/extend';
import type { Key } from 'sluice';
import type { TimeWindow } from './time-window.js';

/** A live window of a key. */
export interface KeyedWindow {
  readonly key: Key;
  readonly window: TimeWindow;
}

/**
 * The live windows of an event-time window operator, by end: what the operator fires and evicts
 * when the watermark passes. Kept next to the operator's window table, and rebuilt from it when
 * the table was loaded or rolled back (after a start, or after a batch that did not commit).
 *
 * Windows come out in a defined order that does not depend on history (so a replayed batch
 * emits the same records in the same order, docs/architecture.md): by end, then start, then the
 * key's hash (`hashKey`), then the key's encoding. Sorting by a number is several times cheaper
 * than sorting the key strings.
 */
export class LiveWindows {
  /** end → key → start (a key has at most one live window with a given end). */
  readonly #byEnd = new Map<number, KeyMap<Key, number>>();
  /** The ends in `#byEnd`, ascending. */
  #ends: number[] = [];
  /** Forgets everything (before a rebuild). */
  clear(): void {
    this.#byEnd.clear();
    this.#ends = [];
  }

  /** Marks window `w` of `key` live. */
  add(key: Key, w: TimeWindow): void {
    let keys = this.#byEnd.get(w.end);
    if (keys === undefined) {
      keys = new KeyMap();
      this.#byEnd.set(w.end, keys);
      const ends = this.#ends;
      let i = ends.length;
      while (i > 0 && (ends[i - 1] as number) > w.end) i--;
      ends.splice(i, 0, w.end);
    }
    keys.set(key, w.start);
  }

  /** Whether window `w` of `key` is live. */
  has(key: Key, w: TimeWindow): boolean {
    return this.#byEnd.get(w.end)?.get(key) === w.start;
  }

  /** Forgets window `w` of `key`. */
  remove(key: Key, w: TimeWindow): void {
    const keys = this.#byEnd.get(w.end);
    if (keys?.get(key) !== w.start) return;
    keys.delete(key);
    if (keys.size === 0) {
      this.#byEnd.delete(w.end);
      this.#ends.splice(this.#ends.indexOf(w.end), 1);
    }
  }

  /**
   * Forgets `windows`, a list from {@link endingUpTo} (or part of one, in its order): an end all
   * of whose windows are listed goes at once.
   */
  removeAll(windows: readonly KeyedWindow[]): void {
    for (let i = 0; i < windows.length; ) {
      const end = (windows[i] as KeyedWindow).window.end;
      let j = i + 1;
      while (j < windows.length && (windows[j] as KeyedWindow).window.end === end) j++;
      if (this.#byEnd.get(end)?.size === j - i) {
        this.#byEnd.delete(end);
        this.#ends.splice(this.#ends.indexOf(end), 1);
      } else {
        for (let k = i; k < j; k++) this.remove((windows[k] as KeyedWindow).key, (windows[k] as KeyedWindow).window);
      }
      i = j;
    }
  }

  /** Drops the holes that removed windows left, where they have grown large (once a batch: not per removal). */
  compact(): void {
    for (const keys of this.#byEnd.values()) keys.compact();
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

  /** The live windows that end in `[from, to]`, in the defined order. */
  endingBetween(from: number, to: number): KeyedWindow[] {
    const out: KeyedWindow[] = [];
    const ends = this.#ends;
    let lo = 0;
    let hi = ends.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((ends[mid] as number) < from) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < ends.length && (ends[i] as number) <= to; i++) this.#appendEnd(ends[i] as number, out);
    return out;
  }

  /** Every live window, in the defined order. */
  all(): KeyedWindow[] {
    const out: KeyedWindow[] = [];
    for (const end of this.#ends) this.#appendEnd(end, out);
    return out;
  }

  #appendEnd(end: number, out: KeyedWindow[]): void {
    const keys = this.#byEnd.get(end) as KeyMap<Key, number>;
    const list: Key[] = [];
    const starts = new Float64Array(keys.size);
    let sameStart = true;
    let first = Number.NaN;
    keys.forEach((start, key) => {
      if (list.length === 0) first = start;
      else if (start !== first) sameStart = false;
      starts[list.length] = start;
      list.push(key);
    });
    for (const index of orderOf(list, sameStart ? undefined : starts)) {
      out.push({ key: list[index] as Key, window: { start: starts[index] as number, end } });
    }
  }
}

/** Up to this many keys, a key's hash and its index pack exactly into one double (32 + 21 bits). */
const PACKED_LIMIT = 2 ** 21;

/**
 * The indexes of `keys` in the defined order: by `starts` (when given), then by the key's hash
 * (`hashKey`, the same in every process), then by the key's encoding. `hashes`, when given
 * without `starts`, holds each key's hash (`hashKey(keys[i])`) and may be overwritten.
 */
export function orderOf(keys: readonly Key[], starts: Float64Array | undefined, hashes?: Uint32Array): Uint32Array | number[] {
  const n = keys.length;
  if (starts === undefined && n >= RADIX_FROM) return byHashRadix(keys, hashes);
  if (starts === undefined && n < PACKED_LIMIT) {
    // One start: sort hash * 2^21 + index as plain numbers, then order equal hashes by key.
    const packed = new Float64Array(n);
    for (let i = 0; i < n; i++) packed[i] = (hashes === undefined ? hashKey(keys[i] as Key) : (hashes[i] as number)) * PACKED_LIMIT + i;
    packed.sort();
    const order = new Uint32Array(n);
    for (let i = 0; i < n; i++) order[i] = (packed[i] as number) % PACKED_LIMIT;
    for (let i = 0; i < n; ) {
      let j = i + 1;
      const h = Math.floor((packed[i] as number) / PACKED_LIMIT);
      while (j < n && Math.floor((packed[j] as number) / PACKED_LIMIT) === h) j++;
      if (j - i > 1) order.subarray(i, j).sort((a, b) => compareKeys(keys[a] as Key, keys[b] as Key));
      i = j;
    }
    return order;
  }
  const hashOf = keys.map(hashKey);
  return Array.from({ length: n }, (_, i) => i).sort(
    (a, b) =>
      (starts === undefined ? 0 : (starts[a] as number) - (starts[b] as number)) ||
      (hashOf[a] as number) - (hashOf[b] as number) ||
      compareKeys(keys[a] as Key, keys[b] as Key),
  );
}

/** From this many keys, ordering by hash takes a radix sort (its fixed cost is three passes over 2,048 counts). */
const RADIX_FROM = 1024;

/**
 * {@link orderOf} without starts, by a least-significant-digit radix sort of the keys' 32-bit
 * hashes (three stable passes of 11, 11 and 10 bits, carrying the indexes; the three digits'
 * counts taken in one pass): linear in the keys, where the comparison sort of a closing window
 * of 60,000 keys took three times as long. Keys of equal hash are then ordered by their encoding.
 * `hashes[i]` is `hashKey(keys[i])` when given (it is overwritten).
 */
function byHashRadix(keys: readonly Key[], given?: Uint32Array): Uint32Array {
  const n = keys.length;
  let hashes: Uint32Array = given ?? new Uint32Array(n);
  if (given === undefined) for (let i = 0; i < n; i++) hashes[i] = hashKey(keys[i] as Key);
  let hashesOut: Uint32Array = new Uint32Array(n);
  let order: Uint32Array = new Uint32Array(n);
  let orderOut: Uint32Array = new Uint32Array(n);
  const counts = new Uint32Array(3 * RADIX_BUCKETS);
  for (let i = 0; i < n; i++) {
    const h = hashes[i] as number;
    (counts[h & RADIX_MASK] as number)++;
    (counts[RADIX_BUCKETS + ((h >>> RADIX_BITS) & RADIX_MASK)] as number)++;
    (counts[2 * RADIX_BUCKETS + (h >>> (2 * RADIX_BITS))] as number)++;
  }
  for (let d = 0; d < 3; d++) {
    for (let b = d * RADIX_BUCKETS, end = b + RADIX_BUCKETS, sum = 0; b < end; b++) {
      const c = counts[b] as number;
      counts[b] = sum;
      sum += c;
    }
  }
  for (let d = 0; d < 3; d++) {
    const shift = d * RADIX_BITS;
    const base = d * RADIX_BUCKETS;
    if (d === 0) {
      // The first pass carries the identity order: no array of indexes to read.
      for (let i = 0; i < n; i++) {
        const h = hashes[i] as number;
        const at = counts[base + (h & RADIX_MASK)] as number;
        counts[base + (h & RADIX_MASK)] = at + 1;
        hashesOut[at] = h;
        orderOut[at] = i;
      }
    } else {
      for (let i = 0; i < n; i++) {
        const h = hashes[i] as number;
        const digit = base + ((h >>> shift) & RADIX_MASK);
        const at = counts[digit] as number;
        counts[digit] = at + 1;
        hashesOut[at] = h;
        orderOut[at] = order[i] as number;
      }
    }
    [hashes, hashesOut] = [hashesOut, hashes];
    [order, orderOut] = [orderOut, order];
  }
  for (let i = 0; i < n; ) {
    let j = i + 1;
    while (j < n && hashes[j] === hashes[i]) j++;
    if (j - i > 1) order.subarray(i, j).sort((a, b) => compareKeys(keys[a] as Key, keys[b] as Key));
    i = j;
  }
  return order;
}

const RADIX_BITS = 11;
const RADIX_BUCKETS = 1 << RADIX_BITS;
const RADIX_MASK = RADIX_BUCKETS - 1;

/** `windows` sorted in the defined order: by end, then start, then the key's hash, then its encoding. */
export function sortWindows(windows: readonly KeyedWindow[]): KeyedWindow[] {
  const hashes = windows.map((w) => hashKey(w.key));
  const order = Array.from({ length: windows.length }, (_, i) => i).sort((i, j) => {
    const [a, b] = [windows[i] as KeyedWindow, windows[j] as KeyedWindow];
    return a.window.end - b.window.end || a.window.start - b.window.start || (hashes[i] as number) - (hashes[j] as number) || compareKeys(a.key, b.key);
  });
  return order.map((i) => windows[i] as KeyedWindow);
}

function compareKeys(a: Key, b: Key): number {
  const [x, y] = [encodeKey(a), encodeKey(b)];
  return x < y ? -1 : x > y ? 1 : 0;
}
