import type { Batch } from '../batch.js';
import type { BatchContext } from '../batch-context.js';
import { DStream, type Operator } from '../dstream.js';
import { definition, ErrorPolicy, type Definition, type OnErrorOptions } from '../error-policy.js';
import type { Key, Pair } from '../key.js';
import { fusableChain } from '../operators/narrow.js';
import { checkNumPartitions } from './partitioner.js';
import { keyedShuffle, type Combiner, type KeyedShuffle } from './shuffle.js';

/**
 * Options of the per-batch keyed aggregations: `numPartitions`, a `name`, and `onError`: what to
 * do with a pair whose key is not a {@link Key} or on which the combining function throws
 * (default: the context's `onError`, `'fail'` unless set).
 */
export interface KeyedOptions extends OnErrorOptions {
  /** Partitions of the result (default: the context's `defaultParallelism`). */
  readonly numPartitions?: number;
}

/**
 * Combines the values of each key within every batch with Spark's `combineByKey` trio: one
 * `[key, combined]` pair per key present in the batch, keys hash-partitioned.
 *
 * @throws SluiceError `USER_FUNCTION_FAILED` (failing the batch) when a combiner function throws
 * or a key is not a key, and the policy is `'fail'`; TypeError at once for a bad `onError`.
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
  const defined = definition(kind, options);
  return (stream: DStream<Pair<K, V>>) => new KeyedAggregationDStream<K, V, C>(kind, stream, combiner, numPartitions, options.name, defined);
}

/**
 * A keyed aggregation of one batch. When its input is a chain of narrow operators that feeds
 * only it, its map tasks run that chain themselves, in the same pass as the combining: no
 * intermediate array between the last narrow operator and the shuffle.
 */
class KeyedAggregationDStream<K extends Key, V, C> extends DStream<Pair<K, C>> {
  readonly #parent: DStream<Pair<K, V>>;
  readonly #numPartitions: number | undefined;
  readonly #policy: ErrorPolicy;
  readonly #shuffle: KeyedShuffle<K, C>;

  constructor(kind: string, parent: DStream<Pair<K, V>>, combiner: Combiner<V, C>, numPartitions: number | undefined, name: string | undefined, defined: Definition) {
    super({ kind, graph: parent.graph, parents: [parent], name });
    this.#parent = parent;
    this.#numPartitions = numPartitions;
    this.#policy = new ErrorPolicy(this, defined);
    this.#shuffle = keyedShuffle<K, V, C>(this, combiner, this.#policy, () => fusableChain(this.#parent)?.stages);
  }

  protected override async compute(bc: BatchContext): Promise<Batch<Pair<K, C>> | undefined> {
    const chain = fusableChain(this.#parent);
    const input = await (chain?.root ?? this.#parent).getOrCompute(bc);
    if (input === undefined) return undefined;
    return this.#shuffle.run(bc, input, this.#numPartitions ?? bc.defaultParallelism);
  }
}
