import type { DStream, Operator } from '../dstream.js';
import type { Key, Pair } from '../key.js';
import { DerivedDStream } from '../operators/derived.js';
import { checkNumPartitions } from './partitioner.js';
import { combineByKeyBatch, type Combiner } from './shuffle.js';

/** Options of the per-batch keyed aggregations. */
export interface KeyedOptions {
  /** Partitions of the result (default: the context's `defaultParallelism`). */
  readonly numPartitions?: number;
  /** A name for the operator in errors, logs and metrics. */
  readonly name?: string;
}

/**
 * Combines the values of each key within every batch with Spark's `combineByKey` trio: one
 * `[key, combined]` pair per key present in the batch, keys hash-partitioned.
 *
 * @throws SluiceError `USER_FUNCTION_FAILED` (failing the batch) when a combiner function throws.
 * @example
 * pairs.pipe(combineByKey({
 *   create: (v) => ({ sum: v, n: 1 }),
 *   mergeValue: (c, v) => ({ sum: c.sum + v, n: c.n + 1 }),
 *   mergeCombiners: (a, b) => ({ sum: a.sum + b.sum, n: a.n + b.n }),
 * }))
 */
export function combineByKey<K extends Key, V, C>(
  combiner: Combiner<V, C>,
  options: KeyedOptions = {},
): Operator<Pair<K, V>, Pair<K, C>> {
  return keyedAggregation('combineByKey', combiner, options);
}

/** The shared body of reduceByKey, groupByKey, combineByKey and countByValue. */
export function keyedAggregation<K extends Key, V, C>(
  kind: string,
  combiner: Combiner<V, C>,
  options: KeyedOptions,
): Operator<Pair<K, V>, Pair<K, C>> {
  const numPartitions = checkNumPartitions(kind, options.numPartitions);
  return (stream: DStream<Pair<K, V>>) =>
    new DerivedDStream<Pair<K, C>>(
      kind,
      [stream],
      ([input], bc, operator) =>
        combineByKeyBatch(bc, input as never, numPartitions ?? bc.defaultParallelism, combiner, operator),
      options.name,
    );
}
