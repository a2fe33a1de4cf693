import { checkNumPartitions, keyedShuffle } from '../../core/internal.js';
import { definition } from 'sluice/extend';
import type { DStream, DurationLike, Key, Operator, Pair } from 'sluice';
import { KeyedWindowDStream } from './keyed-window-dstream.js';
import type { KeyedWindowOptions } from './windowed-dstream.js';
import { parseWindowSpec, windowGeometry } from './window-geometry.js';

/** Options of {@link reduceByKeyAndWindow}. */
export interface ReduceByKeyAndWindowOptions<K extends Key, V> extends KeyedWindowOptions {
  /**
   * Keeps only the result pairs it accepts. With an inverse, a rejected key is also forgotten:
   * use it to drop keys with nothing left in the window (`([, n]) => n !== 0` for counts), which
   * would otherwise stay forever with a zero value. It must only reject such keys: the values of a
   * forgotten key still in the window are not taken out again.
   */
  readonly filter?: (pair: Pair<K, V>) => boolean;
}

const identity = <V>(value: V): V => value;

/**
 * Spark's `reduceByKeyAndWindow`: at every slide time, one `[key, reduced]` pair per key of the
 * window (see `window`), reduced with an associative, commutative function. Each batch is reduced
 * per key once, hash-partitioned like `reduceByKey`; windows merge those partial results.
 *
 * Without `inverse`, each window is merged in full, and keys come out by partition, then in the
 * order they were first seen in the window (as `reduceByKey` over the window's records). With
 * `inverse` (`inverse(reduce(a, b), b) = a`), each window is the previous one plus the batches
 * that entered, minus those that left (Spark's incremental form, cheaper for long windows): keys of
 * the previous window keep their order and new keys follow, first seen first; a key whose values
 * have all left stays with its "zero" (`0` for a sum) unless `options.filter` drops it, as in Spark.
 * The held per-batch results and the previous window are kept in the operator's state store, so a
 * checkpoint brings them back after a restart.
 *
 * **Memory.** One reduced value per key for each batch of the window (length / batch interval
 * batches), and with `inverse` one per key of the previous window (keys whose values all left
 * stay until `filter` drops them).
 *
 * @param reduce - an associative and commutative function.
 * @param inverse - undoes `reduce`, or `undefined` to merge every window in full.
 * @param length - the window length (ms or a duration such as `'30s'`); a multiple of the input's slide.
 * @param slide - how often a window is produced (default: the input's slide, i.e. every batch).
 * @param options - `numPartitions` (default: the context's `defaultParallelism`), `filter`, `name`, `stateBackend`,
 *   `onError` (for a pair the per-batch reduce cannot handle; see `KeyedWindowOptions`).
 * @throws RangeError when a duration or `numPartitions` is malformed (at once), or a duration is not
 *   a multiple of the input's slide (when applied to a stream).
 * @throws SluiceError `USER_FUNCTION_FAILED` (failing the batch) when `reduce`, `inverse` or
 *   `filter` throws.
 * @example
 * // Every 10 seconds, the word counts of the last minute, without the words that dropped to 0.
 * words.pipe(
 *   mapToPair((w) => [w, 1]),
 *   reduceByKeyAndWindow((a, b) => a + b, (a, b) => a - b, '1m', '10s', { filter: ([, n]) => n > 0 }),
 * )
 */
export function reduceByKeyAndWindow<K extends Key, V>(
  reduce: (a: V, b: V) => V,
  inverse: ((a: V, b: V) => V) | undefined,
  length: DurationLike,
  slide?: DurationLike,
  options: ReduceByKeyAndWindowOptions<K, V> = {},
): Operator<Pair<K, V>, Pair<K, V>> {
  const kind = 'reduceByKeyAndWindow';
  const spec = parseWindowSpec(kind, length, slide);
  const numPartitions = checkNumPartitions(kind, options.numPartitions);
  const combiner = { create: identity<V>, mergeValue: reduce, mergeCombiners: reduce };
  const defined = definition(kind, options);
  return (stream: DStream<Pair<K, V>>) =>
    new KeyedWindowDStream<Pair<K, V>, K, V>(
      kind,
      stream,
      windowGeometry(spec, stream),
      {
        prepare: (node, policy) => {
          const shuffle = keyedShuffle<K, V, V>(node, combiner, policy);
          return (bc, input, n) => shuffle.run(bc, input, n);
        },
        merge: { first: identity, add: reduce },
        inverse,
        filter: options.filter,
      },
      { ...options, numPartitions },
      defined,
    );
}
