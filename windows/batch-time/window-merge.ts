import { KeyMap, type Batch, type Key, type Pair } from 'sluice';

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
 * Merges partition `p` of hash-partitioned, per-key combined batches (oldest first): one value per
 * key, keys in first-seen order, as a reduceByKey over the window's records would give them.
 */
export function mergePartition<K extends Key, C>(batches: readonly Batch<Pair<K, C>>[], p: number, merge: WindowMerge<C>): KeyMap<K, C> {
  const merged = new KeyMap<K, C>();
  for (const batch of batches) {
    const partition = batch.partitions[p] ?? [];
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

/**
 * One partition of an incremental window (Spark's ReducedWindowedDStream): each key of the previous
 * window, then each new key in first-seen order, gets `inverse(reduce(previous, entered), left)`,
 * skipping the parts it does not have. A key with only values that left (it was filtered out
 * earlier, so nothing is known to take them from) is dropped.
 *
 * @returns the next window's values (kept keys only) and its pairs, in that order.
 */
export function slidePartition<K extends Key, V>(
  previous: KeyMap<K, V> | undefined,
  entered: KeyMap<K, V>,
  left: KeyMap<K, V>,
  fns: InverseReduce<K, V>,
): { readonly next: KeyMap<K, V>; readonly pairs: Pair<K, V>[] } {
  const { reduce, inverse, filter } = fns;
  const next = new KeyMap<K, V>();
  const pairs: Pair<K, V>[] = [];
  const settle = (key: K, value: V): void => {
    const out = left.has(key) ? inverse(value, left.get(key) as V) : value;
    const pair: Pair<K, V> = [key, out];
    if (filter !== undefined && !filter(pair)) return;
    next.set(key, out);
    pairs.push(pair);
  };
  previous?.forEach((value, key) => {
    settle(key, entered.has(key) ? reduce(value, entered.get(key) as V) : value);
  });
  entered.forEach((value, key) => {
    if (previous === undefined || !previous.has(key)) settle(key, value);
  });
  return { next, pairs };
}
