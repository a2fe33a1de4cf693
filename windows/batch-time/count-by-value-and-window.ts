import { Batch, type DStream, type DurationLike, type Key, type Operator, type Pair } from 'sluice';
import { checkNumPartitions, partitionOf } from '../../core/internal.js';
import { defineTaskStep, definition, KeyMap, type BatchContext, type ErrorPolicy } from 'sluice/extend';
import { KeyedWindowDStream, type PrepareBatch } from './keyed-window-dstream.js';
import type { KeyedWindowOptions } from './windowed-dstream.js';
import { parseWindowSpec, windowGeometry } from './window-geometry.js';
import { toPairs } from './window-merge.js';

const add = (a: number, b: number): number => a + b;
const subtract = (a: number, b: number): number => a - b;
const nonZero = (pair: Pair<Key, number>): boolean => pair[1] !== 0;

/**
 * Spark's `countByValueAndWindow`: at every slide time, `[record, count]` for each distinct record
 * of the window (see `window`), computed incrementally as `reduceByKeyAndWindow(+, -)` with the
 * records whose count fell to 0 dropped. Records are compared by value, so they must be keys
 * (strings, numbers, ... or arrays of these); they come out by partition, records of the previous
 * window first. The held per-batch counts and the previous window's counts are kept in the
 * operator's state store, so a checkpoint brings them back after a restart.
 *
 * **Memory.** One count per distinct record for each batch of the window (length / batch
 * interval batches), and one per distinct record of the previous window.
 *
 * @param length - the window length (ms or a duration such as `'30s'`); a multiple of the input's slide.
 * @param slide - how often a window is produced (default: the input's slide, i.e. every batch).
 * @param options - `numPartitions` (default: the context's `defaultParallelism`), `name`, `stateBackend`,
 *   `onError` (for a record that is not a key; see `KeyedWindowOptions`).
 * @throws RangeError when a duration or `numPartitions` is malformed (at once), or a duration is not
 *   a multiple of the input's slide (when applied to a stream).
 * @throws SluiceError `USER_FUNCTION_FAILED` (failing the batch, when `onError` is `'fail'`) when a
 *   record is not a key.
 * @example
 * // Every 10 seconds, the page views of the last minute.
 * pages.pipe(countByValueAndWindow('1m', '10s'))
 */
export function countByValueAndWindow<T extends Key>(length: DurationLike, slide?: DurationLike, options: KeyedWindowOptions = {}): Operator<T, Pair<T, number>> {
  const kind = 'countByValueAndWindow';
  const spec = parseWindowSpec(kind, length, slide);
  const numPartitions = checkNumPartitions(kind, options.numPartitions);
  const defined = definition(kind, options);
  return (stream: DStream<T>) =>
    new KeyedWindowDStream<T, T, number>(
      kind,
      stream,
      windowGeometry(spec, stream),
      { prepare: countValues, merge: { first: (n) => n, add }, inverse: subtract, filter: nonZero },
      { ...options, numPartitions },
      defined,
    );
}

/**
 * Counts one batch's records per value, hash-partitioned like `keyedShuffle` (count within each
 * input partition, then merge in input-partition order) without making a pair per record: the
 * two stages registered on the window's node.
 */
function countValues<T extends Key>(node: DStream<unknown>, policy: ErrorPolicy): PrepareBatch<T, T, number> {
  const count = defineTaskStep(node, 'count', ({ records: partition, numPartitions }: { readonly records: readonly unknown[]; readonly numPartitions: number }, tc) => {
    const buckets = Array.from({ length: numPartitions }, () => new KeyMap<T, number>());
    // One try around the loop; a record that is not a key goes to the policy (which throws on
    // 'fail') and the loop resumes after it: nothing is paid per record.
    for (let i = 0; i < partition.length; i++) {
      try {
        for (; i < partition.length; i++) {
          const value = partition[i] as T;
          const bucket = buckets[partitionOf(value, numPartitions)] as KeyMap<T, number>;
          bucket.set(value, (bucket.get(value) ?? 0) + 1);
        }
      } catch (error) {
        policy.reject(tc.recordErrors, partition[i], error);
      }
    }
    return buckets.map((bucket) => bucket.slots());
  });
  // Its input: one output partition's buckets, one per map task, in input-partition order.
  const merge = defineTaskStep(node, 'countReduce', (buckets: readonly ReturnType<KeyMap<T, number>['slots']>[]) => {
    const counts = new KeyMap<T, number>();
    for (const { keys, values } of buckets) {
      for (let i = 0; i < keys.length; i++) {
        const value = keys[i] as T;
        counts.set(value, (counts.get(value) ?? 0) + (values[i] as number));
      }
    }
    return toPairs(counts, undefined);
  });
  return async (bc: BatchContext, input: Batch<T>, numPartitions: number) => {
    const counted = await bc.executor.runStage(count, input.partitions.map((records) => ({ records, numPartitions })), bc);
    const merged = await bc.executor.runStage(merge, Array.from({ length: numPartitions }, (_, p) => counted.map((buckets) => buckets[p] as ReturnType<KeyMap<T, number>['slots']>)), bc);
    return new Batch(merged);
  };
}
