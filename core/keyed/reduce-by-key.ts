import type { Operator } from '../dstream.js';
import type { Key, Pair } from '../key.js';
import { keyedAggregation, type KeyedOptions } from './combine-by-key.js';

const identity = <V>(value: V): V => value;

/**
 * Reduces the values of each key within every batch with an associative function: one
 * `[key, reduced]` pair per key present in the batch.
 *
 * @throws SluiceError `USER_FUNCTION_FAILED` (failing the batch) when `reduce` throws.
 * @example words.pipe(mapToPair((w) => [w, 1]), reduceByKey((a, b) => a + b))
 */
export function reduceByKey<K extends Key, V>(
  reduce: (a: V, b: V) => V,
  options: KeyedOptions = {},
): Operator<Pair<K, V>, Pair<K, V>> {
  return keyedAggregation<K, V, V>('reduceByKey', { create: identity, mergeValue: reduce, mergeCombiners: reduce }, options);
}
