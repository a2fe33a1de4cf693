import { Batch } from '../batch.js';
import type { BatchContext } from '../batch-context.js';
import { KeyMap, type Key, type Pair } from '../key.js';
import type { ErrorPolicy } from '../error-policy.js';
import { userFunctionFailed } from '../operator-error.js';
import { runStages, type Stage } from '../operators/narrow.js';
import { partitionOf } from './partitioner.js';

/** How values of one key are combined: Spark's `combineByKey` trio. */
export interface Combiner<V, C> {
  /** Starts a combiner from a key's first value. */
  readonly create: (value: V) => C;
  /** Adds a value to a combiner. */
  readonly mergeValue: (combiner: C, value: V) => C;
  /** Merges two combiners of the same key (from different partitions). */
  readonly mergeCombiners: (a: C, b: C) => C;
}

/**
 * Hash-partitions `input` by key into `numPartitions` and combines the values of each key. Map
 * tasks combine within each input partition; reduce tasks merge those partial results in
 * input-partition order. Keys come out in first-seen order within their partition. With
 * `stages`, `input` is the batch of a fused chain's root and each map task runs the narrow stages
 * first, in the same pass (see `fusableChain`). A record whose key is not a key, or on which
 * `create` or `mergeValue` throws, goes to `policy`; `mergeCombiners` (merging partial results
 * of several input partitions, no one record's) always fails the batch.
 */
export async function combineByKeyBatch<K extends Key, V, C>(
  bc: BatchContext,
  input: Batch<Pair<K, V>>,
  numPartitions: number,
  combiner: Combiner<V, C>,
  policy: ErrorPolicy,
  stages?: readonly Stage<unknown, unknown>[],
): Promise<Batch<Pair<K, C>>> {
  const { create, mergeValue, mergeCombiners } = combiner;
  const errors = bc.recordErrors;
  const mapOutputs = await bc.executor.run(
    input.partitions.map((partition) => () => {
      const buckets = Array.from({ length: numPartitions }, () => new KeyMap<K, C>());
      // A record changes nothing until its key is checked and `create` or `mergeValue` returned,
      // so a record that throws can be skipped.
      const combine = (record: unknown): void => {
        const pair = record as Pair<K, V>;
        const key = pair[0];
        const bucket = buckets[partitionOf(key, numPartitions)] as KeyMap<K, C>;
        const slot = bucket.slotOf(key);
        if (slot < 0) bucket.add(key, create(pair[1]));
        else bucket.setAt(slot, mergeValue(bucket.valueAt(slot), pair[1]));
      };
      // 'fail' keeps one try around the loop (nothing per record); the other policies guard each
      // record. Fused stages throw errors that name their own operator, which pass through.
      const handle =
        policy.onError === 'fail'
          ? combine
          : (record: unknown): void => {
              try {
                combine(record);
              } catch (error) {
                policy.reject(errors, record, error);
              }
            };
      try {
        if (stages === undefined) for (let i = 0; i < partition.length; i++) handle(partition[i]);
        else runStages(partition, stages, handle, errors);
      } catch (error) {
        throw policy.failure(error);
      }
      return buckets;
    }),
  );
  const reduced = await bc.executor.run(
    Array.from({ length: numPartitions }, (_, p) => () => {
      // One map task: its bucket is the result as it is (keys in first-seen order).
      if (mapOutputs.length === 1) return pairsOf((mapOutputs[0] as KeyMap<K, C>[])[p] as KeyMap<K, C>);
      const merged = new KeyMap<K, C>();
      try {
        for (const buckets of mapOutputs) {
          const bucket = buckets[p] as KeyMap<K, C>;
          for (let i = 0; i < bucket.slotCount; i++) {
            const key = bucket.keyAt(i) as K;
            const slot = merged.slotOf(key);
            if (slot < 0) merged.add(key, bucket.valueAt(i));
            else merged.setAt(slot, mergeCombiners(merged.valueAt(slot), bucket.valueAt(i)));
          }
        }
      } catch (error) {
        throw policy.failure(error);
      }
      return pairsOf(merged);
    }),
  );
  return new Batch(reduced);
}

function pairsOf<K extends Key, C>(map: KeyMap<K, C>): Pair<K, C>[] {
  const out: Pair<K, C>[] = [];
  map.forEach((value, key) => out.push([key, value]));
  return out;
}

/**
 * Groups the values of every key across several keyed batches (the shuffle behind cogroup and the
 * joins): for each key, in first-seen order across the inputs in order, one array of values per input.
 */
export async function cogroupBatches<K extends Key>(
  bc: BatchContext,
  inputs: readonly Batch<Pair<K, unknown>>[],
  numPartitions: number,
  operator: string,
): Promise<Batch<Pair<K, unknown[][]>>> {
  const bucketed = await Promise.all(
    inputs.map((input) =>
      bc.executor.run(
        input.partitions.map((partition) => () => {
          const buckets: Pair<K, unknown>[][] = Array.from({ length: numPartitions }, () => []);
          try {
            for (const pair of partition) (buckets[partitionOf(pair[0], numPartitions)] as Pair<K, unknown>[]).push(pair);
          } catch (error) {
            throw userFunctionFailed(operator, error);
          }
          return buckets;
        }),
      ),
    ),
  );
  const grouped = await bc.executor.run(
    Array.from({ length: numPartitions }, (_, p) => () => {
      const groups = new KeyMap<K, unknown[][]>();
      try {
        bucketed.forEach((mapOutputs, side) => {
          for (const buckets of mapOutputs) {
            for (const [key, value] of buckets[p] as Pair<K, unknown>[]) {
              let group = groups.get(key);
              if (group === undefined) {
                group = inputs.map(() => []);
                groups.set(key, group);
              }
              (group[side] as unknown[]).push(value);
            }
          }
        });
      } catch (error) {
        throw userFunctionFailed(operator, error);
      }
      const out: Pair<K, unknown[][]>[] = [];
      groups.forEach((group, key) => out.push([key, group]));
      return out;
    }),
  );
  return new Batch(grouped);
}
