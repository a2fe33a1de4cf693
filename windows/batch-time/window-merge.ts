import { KeyMap } from 'sluice/extend';
import type { Key, Pair } from 'sluice';

/** Partition `p` of each of the per-key combined batches of a window, oldest first: what one task merges. */
export type WindowParts<K extends Key, C> = readonly (readonly Pair<K, C>[])[];

/** How the per-batch values of a key are merged over a window. */
export interface WindowMerge<C> {
  /** The window's value of a key from the first batch that has it (a copy, if `add` mutates). */
  readonly first: (value: C) => C;
  /** Adds the value of a later batch. */
  readonly add: (acc: C, value: C) => C;
}

/** An optional predicate on the result pairs: the pairs it rejects are dropped. */
export type PairFilter<K extends Key, V> = ((pair: Pair<K, V>) => boolean) | undefined;

/**
 * Merges one partition of hash-partitioned, per-key combined batches (`parts`, oldest first): one
 * value per key, keys in first-seen order, as a reduceByKey over the window's records would give them.
 */
export function mergePartition<K extends Key, C>(parts: WindowParts<K, C>, merge: WindowMerge<C>): KeyMap<K, C> {
  const merged = new KeyMap<K, C>();
  for (const partition of parts) {
    for (let i = 0; i < partition.length; i++) {
      const pair = partition[i] as Pair<K, C>;
      const key = pair[0];
      const acc = merged.get(key);
      if (acc === undefined && !merged.has(key)) merged.set(key, merge.first(pair[1]));
      else merged.set(key, merge.add(acc as C, pair[1]));
    }
  }
  return merged;
}

/** The pairs of `merged` that `filter` accepts, in key order. */
export function toPairs<K extends Key, C>(merged: KeyMap<K, C>, filter: PairFilter<K, C>): Pair<K, C>[] {
  const out: Pair<K, C>[] = [];
  merged.forEach((value, key) => {
    const pair: Pair<K, C> = [key, value];
    if (filter === undefined || filter(pair)) out.push(pair);
  });
  return out;
}

/** The functions of an incremental window. */
export interface InverseReduce<K extends Key, V> {
  readonly reduce: (a: V, b: V) => V;
  readonly inverse: (a: V, b: V) => V;
  readonly filter: PairFilter<K, V>;
}

/** How to take back what {@link slidePartition} did to a window, should its batch not commit. */
export class WindowUndo<K extends Key, V> {
  readonly #slotCount: number;
  readonly #changed: number[] = [];
  readonly #before: V[] = [];
  readonly #deleted: [number, K, V][] = [];

  constructor(window: KeyMap<K, V>) {
    this.#slotCount = window.slotCount;
  }

  /** Records the value of `slot` before it changes. */
  changing(slot: number, before: V): void {
    if (slot < this.#slotCount) {
      this.#changed.push(slot);
      this.#before.push(before);
    }
  }

  /** Records a key deleted from `slot`. */
  deleting(slot: number, key: K, value: V): void {
    this.#deleted.push([slot, key, value]);
  }

  /** Restores the window as it was when this log started. */
  undo(window: KeyMap<K, V>): void {
    // The keys added since go first (one may be a deleted key added again), then the old slots come back.
    window.truncate(this.#slotCount);
    for (let i = this.#deleted.length - 1; i >= 0; i--) {
      const [slot, key, value] = this.#deleted[i] as [number, K, V];
      if (slot < this.#slotCount) window.restoreAt(slot, key, value);
    }
    for (let i = this.#changed.length - 1; i >= 0; i--) window.setAt(this.#changed[i] as number, this.#before[i] as V);
  }
}

/**
 * One partition of an incremental window (Spark's ReducedWindowedDStream): each key of the previous
 * window, then each new key in first-seen order, gets `inverse(reduce(previous, entered), left)`,
 * skipping the parts it does not have. A key with only values that left (it was filtered out
 * earlier, so nothing is known to take them from) is dropped. `entered` and `left` are the
 * partition's part of the per-key combined batches that enter and leave the window (oldest first).
 *
 * `window` (the previous window's values) becomes the next window's in place, and `undo` (if
 * given) records how to take that back: the work is proportional to the entering and leaving pairs, plus one
 * filter call and one output pair per key of the window.
 *
 * @returns the next window's pairs (kept keys only), in window order.
 */
export function slidePartition<K extends Key, V>(
  window: KeyMap<K, V>,
  entered: WindowParts<K, V>,
  left: WindowParts<K, V>,
  fns: InverseReduce<K, V>,
  undo: WindowUndo<K, V> | undefined,
): Pair<K, V>[] {
  const { reduce, inverse, filter } = fns;
  for (const partition of entered) {
    for (let i = 0; i < partition.length; i++) {
      const [key, value] = partition[i] as Pair<K, V>;
      const slot = window.slotOf(key);
      if (slot < 0) {
        window.add(key, value);
      } else {
        const before = window.valueAt(slot);
        undo?.changing(slot, before);
        window.setAt(slot, reduce(before, value));
      }
    }
  }
  for (const partition of left) {
    for (let i = 0; i < partition.length; i++) {
      const [key, value] = partition[i] as Pair<K, V>;
      const slot = window.slotOf(key);
      if (slot < 0) continue;
      const before = window.valueAt(slot);
      undo?.changing(slot, before);
      window.setAt(slot, inverse(before, value));
    }
  }
  const pairs: Pair<K, V>[] = [];
  for (let slot = 0; slot < window.slotCount; slot++) {
    const key = window.keyAt(slot);
    if (key === undefined) continue;
    const pair: Pair<K, V> = [key, window.valueAt(slot)];
    if (filter === undefined || filter(pair)) {
      pairs.push(pair);
    } else {
      undo?.deleting(slot, key, pair[1]);
      window.delete(key);
    }
  }
  return pairs;
}
