import type { DStream, Operator } from '../dstream.js';
import type { Key, Pair } from '../key.js';
import type { StaticDataset } from '../operators/constant.js';
import { cogroupWith } from './cogroup.js';
import type { KeyedOptions } from './combine-by-key.js';

/** The other side of a join: a keyed stream of the same context, or a static keyed dataset. */
export type JoinSide<K extends Key, W> = DStream<Pair<K, W>> | StaticDataset<Pair<K, W>>;

/**
 * Inner join within every batch: for each key on both sides, every pair of a left and a right
 * value, `[key, [v, w]]`. The other joins share its errors.
 *
 * **Memory.** Per batch only, as for every join and `cogroup`: both sides' records of the batch,
 * grouped by key, and the output, up to lefts × rights pairs per key; nothing is held between
 * batches (a static dataset on the other side is held for the context's life, by the program).
 *
 * @throws RangeError when `options.numPartitions` is not a positive integer.
 * @throws TypeError when `other` is a stream of another context or with another slide.
 * @example orders.pipe(join(payments)) // DStream<Pair<string, [Order, Payment]>>
 */
export function join<K extends Key, V, W>(other: JoinSide<K, W>, options: KeyedOptions = {}): Operator<Pair<K, V>, Pair<K, [V, W]>> {
  return cogroupWith<K, V, W, Pair<K, [V, W]>>('join', other, options, (key, lefts, rights, emit) => {
    for (const v of lefts) for (const w of rights) emit([key, [v, w]]);
  });
}

/**
 * Left outer join within every batch: like {@link join}, and a left value whose key has no right
 * value is paired with `undefined`.
 */
export function leftOuterJoin<K extends Key, V, W>(other: JoinSide<K, W>, options: KeyedOptions = {}): Operator<Pair<K, V>, Pair<K, [V, W | undefined]>> {
  return cogroupWith<K, V, W, Pair<K, [V, W | undefined]>>('leftOuterJoin', other, options, (key, lefts, rights, emit) => {
    for (const v of lefts) {
      if (rights.length === 0) emit([key, [v, undefined]]);
      else for (const w of rights) emit([key, [v, w]]);
    }
  });
}

/**
 * Right outer join within every batch: like {@link join}, and a right value whose key has no left
 * value is paired with `undefined`.
 */
export function rightOuterJoin<K extends Key, V, W>(other: JoinSide<K, W>, options: KeyedOptions = {}): Operator<Pair<K, V>, Pair<K, [V | undefined, W]>> {
  return cogroupWith<K, V, W, Pair<K, [V | undefined, W]>>('rightOuterJoin', other, options, (key, lefts, rights, emit) => {
    if (lefts.length === 0) for (const w of rights) emit([key, [undefined, w]]);
    else for (const v of lefts) for (const w of rights) emit([key, [v, w]]);
  });
}

/**
 * Full outer join within every batch: every key of either side; a value with no partner on the
 * other side is paired with `undefined`.
 */
export function fullOuterJoin<K extends Key, V, W>(other: JoinSide<K, W>, options: KeyedOptions = {}): Operator<Pair<K, V>, Pair<K, [V | undefined, W | undefined]>> {
  return cogroupWith<K, V, W, Pair<K, [V | undefined, W | undefined]>>('fullOuterJoin', other, options, (key, lefts, rights, emit) => {
    if (lefts.length === 0) for (const w of rights) emit([key, [undefined, w]]);
    else if (rights.length === 0) for (const v of lefts) emit([key, [v, undefined]]);
    else for (const v of lefts) for (const w of rights) emit([key, [v, w]]);
  });
}
