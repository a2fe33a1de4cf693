import type { Operator } from '../dstream.js';
import type { Key, Pair } from '../key.js';
import { keyedAggregation, type KeyedOptions } from './combine-by-key.js';
import type { Combiner } from './shuffle.js';

/** The combiner that groups a key's values into an array, in arrival order (for extensions too). */
export function groupValues<V>(): Combiner<V, V[]> {
  return {
    create: (v) => [v],
    mergeValue: (values, v) => {
      values.push(v);
      return values;
    },
    mergeCombiners: (a, b) => {
      for (const v of b) a.push(v);
      return a;
    },
  };
}

/**
 * Groups the values of each key within every batch: one `[key, values]` pair per key present in
 * the batch, values in arrival order.
 *
 * **Memory.** Nothing between batches. Within a batch, every value of the batch in per-key
 * arrays, bounded by the batch (`maxRecordsPerBatch`); a hot key's values are one record.
 *
 * @example clicks.pipe(keyBy((c) => c.user), groupByKey())
 */
export function groupByKey<K extends Key, V>(options: KeyedOptions = {}): Operator<Pair<K, V>, Pair<K, V[]>> {
  return keyedAggregation<K, V, V[]>('groupByKey', groupValues<V>(), options);
}
