import { Batch } from '../batch.js';
import type { DStream, Operator } from '../dstream.js';
import type { Key, Pair } from '../key.js';
import { keyedAggregation, type KeyedOptions } from '../keyed/combine-by-key.js';
import { callUser, DerivedDStream } from './derived.js';

/**
 * The number of records in every batch, as a one-record batch (`0` for an empty batch).
 *
 * @example clicks.pipe(count(), print())
 */
export function count<T>(): Operator<T, number> {
  return (stream: DStream<T>) => new DerivedDStream<number>('count', [stream], ([input]) => Batch.of([(input as Batch<T>).size]));
}

/**
 * The number of occurrences of each distinct record in every batch, as `[record, count]` pairs.
 * Records are compared by value, so they must be keys (strings, numbers, ... or arrays of these).
 *
 * @throws RangeError when `options.numPartitions` is not a positive integer.
 * @example pages.pipe(countByValue())
 */
export function countByValue<T extends Key>(options: KeyedOptions = {}): Operator<T, Pair<T, number>> {
  // Built now, so a bad option throws when countByValue is called, as for the other keyed operators.
  const aggregate = keyedAggregation<T, number, number>('countByValue', { create: () => 1, mergeValue: (c) => c + 1, mergeCombiners: (a, b) => a + b }, options);
  return (stream: DStream<T>) =>
    stream.pipe((s) => new DerivedDStream<Pair<T, number>>('countByValue', [s], ([input]) => (input as Batch<T>).map((r) => [r, 1] as const)), aggregate);
}

/**
 * Reduces every batch to one record with an associative, commutative function; an empty batch
 * gives an empty result (as in Spark).
 *
 * @throws SluiceError `USER_FUNCTION_FAILED` (failing the batch) when `fn` throws.
 * @example amounts.pipe(reduce((a, b) => a + b))
 */
export function reduce<T>(fn: (a: T, b: T) => T): Operator<T, T> {
  return (stream: DStream<T>) =>
    new DerivedDStream<T>('reduce', [stream], ([input], bc, operator) => {
      let acc: T | undefined;
      let seen = false;
      callUser(operator, () => {
        for (const partition of (input as Batch<T>).partitions) {
          for (const record of partition) {
            acc = seen ? fn(acc as T, record) : record;
            seen = true;
          }
        }
      });
      return seen ? Batch.of([acc as T]) : Batch.empty<T>();
    });
}
