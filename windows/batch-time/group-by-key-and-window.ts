import { checkNumPartitions, keyedShuffle } from '../../core/internal.js';
import { definition } from 'sluice/extend';
import type { Combiner } from 'sluice/extend';
import type { DStream, DurationLike, Key, Operator, Pair } from 'sluice';
import { KeyedWindowDStream } from './keyed-window-dstream.js';
import type { KeyedWindowOptions } from './windowed-dstream.js';
import { parseWindowSpec, windowGeometry } from './window-geometry.js';
import type { WindowMerge } from './window-merge.js';

const append = <V>(values: V[], more: readonly V[]): V[] => {
  for (let i = 0; i < more.length; i++) values.push(more[i] as V);
  return values;
};

/** One batch's values per key. */
const group: Combiner<unknown, unknown[]> = {
  create: (value) => [value],
  mergeValue: (values, value) => {
    values.push(value);
    return values;
  },
  mergeCombiners: append,
};

/** A window's values per key: a fresh array (the held per-batch arrays are shared by windows). */
const concat: WindowMerge<unknown[]> = { first: (values) => values.slice(), add: append };

/**
 * Spark's `groupByKeyAndWindow`: at every slide time, one `[key, values]` pair per key of the
 * window (see `window`), values in arrival order (by batch, then as `groupByKey` orders a batch);
 * keys by partition, then first seen in the window. Each window's arrays are new (changing them
 * does not change later windows). The held per-batch groups are kept in the operator's state store,
 * so a checkpoint brings them back after a restart.
 *
 * **Memory.** Every value of the window's batches (length / batch interval of them), grouped
 * per batch and key, and each window's output copies them once more.
 *
 * @param length - the window length (ms or a duration such as `'30s'`); a multiple of the input's slide.
 * @param slide - how often a window is produced (default: the input's slide, i.e. every batch).
 * @param options - `numPartitions` (default: the context's `defaultParallelism`), `name`, `stateBackend`,
 *   `onError` (for a record that is not a key; see `KeyedWindowOptions`).
 * @throws RangeError when a duration or `numPartitions` is malformed (at once), or a duration is not
 *   a multiple of the input's slide (when applied to a stream).
 * @example
 * // Every 10 seconds, each user's clicks of the last minute.
 * clicks.pipe(keyBy((c) => c.user), groupByKeyAndWindow('1m', '10s'))
 */
export function groupByKeyAndWindow<K extends Key, V>(
  length: DurationLike,
  slide?: DurationLike,
  options: KeyedWindowOptions = {},
): Operator<Pair<K, V>, Pair<K, V[]>> {
  const kind = 'groupByKeyAndWindow';
  const spec = parseWindowSpec(kind, length, slide);
  const numPartitions = checkNumPartitions(kind, options.numPartitions);
  const defined = definition(kind, options);
  return (stream: DStream<Pair<K, V>>) =>
    new KeyedWindowDStream<Pair<K, V>, K, V[]>(
      kind,
      stream,
      windowGeometry(spec, stream),
      {
        prepare: (node, policy) => {
          const shuffle = keyedShuffle<K, V, V[]>(node, group as Combiner<V, V[]>, policy);
          return (bc, input, n) => shuffle.run(bc, input, n);
        },
        merge: concat as WindowMerge<V[]>,
        inverse: undefined,
        filter: undefined,
      },
      { ...options, numPartitions },
      defined,
    );
}
