import { Batch } from '../batch.js';
import type { BatchContext } from '../batch-context.js';
import type { DStream } from '../dstream.js';
import { assertKeyPart, KeyMap, type Key, type KeyPart, type Pair } from '../key.js';
import type { ErrorPolicy, RecordErrors } from '../error-policy.js';
import { userFunctionFailed } from '../operator-error.js';
import { runStages, type Stage } from '../operators/narrow.js';
import type { TaskStep } from '../scheduler/executor.js';
import { defineTaskStep } from '../scheduler/task-step.js';
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

/** Places a key among `numPartitions` output partitions: the same in every process and run. */
export type Partitioner = (key: Key, numPartitions: number) => number;

/** One map task's combined values for one output partition: keys in first-seen order, and their combiners. */
export interface Bucket<K, C> {
  readonly keys: readonly (K | undefined)[];
  readonly values: readonly (C | undefined)[];
}

/** A map task's input: one partition, and how many partitions to hash it into. */
interface MapInput {
  readonly records: readonly unknown[];
  readonly numPartitions: number;
}

/** The two stages of a keyed combine, registered on the operator that runs them (see {@link keyedShuffle}). */
export interface KeyedShuffle<K extends Key, C> {
  /**
   * Hash-partitions `input` by key into `numPartitions` and combines the values of each key: map
   * tasks combine within each input partition, reduce tasks merge those partial results in
   * input-partition order. Keys come out in first-seen order within their partition.
   */
  run(bc: BatchContext, input: Batch<unknown>, numPartitions: number): Promise<Batch<Pair<K, C>>>;
}

/**
 * Registers the map and reduce steps of a keyed combine on `node` (as `<name>` and
 * `<name>Reduce`). With `stages`, the input of `run` is the batch of a fused chain's root and
 * each map task runs the narrow stages first, in the same pass (see `fusableChain`); it is read
 * when a task runs, once the graph is complete. `partitioner` places a key among the output
 * partitions (default {@link partitionOf}; keyed state operators partition by key group ranges,
 * `keyGroupPartitionOf`). A record whose key is not a key, or on which
 * `create` or `mergeValue` throws, goes to `policy`; `mergeCombiners` (merging partial results
 * of several input partitions, no one record's) always fails the batch.
 */
export function keyedShuffle<K extends Key, V, C>(
  node: DStream<unknown>,
  combiner: Combiner<V, C>,
  policy: ErrorPolicy,
  stages: () => readonly Stage<unknown, unknown>[] | undefined = () => undefined,
  name = 'combine',
  partitioner: Partitioner = partitionOf,
): KeyedShuffle<K, C> {
  const mapStep: TaskStep<MapInput, Bucket<K, C>[]> = defineTaskStep(node, name, (input, tc) =>
    combineMap<K, V, C>(input.records, input.numPartitions, combiner, policy, stages(), tc.recordErrors, partitioner),
  );
  const reduceStep: TaskStep<readonly Bucket<K, C>[], Pair<K, C>[]> = defineTaskStep(node, `${name}Reduce`, (buckets) => combineReduce(buckets, combiner.mergeCombiners, policy));
  return {
    async run(bc, input, numPartitions) {
      const mapOutputs = await bc.executor.runStage(
        mapStep,
        input.partitions.map((records) => ({ records, numPartitions })),
        bc,
      );
      const reduceInputs = Array.from({ length: numPartitions }, (_, p) => mapOutputs.map((buckets) => buckets[p] as Bucket<K, C>));
      return new Batch(await bc.executor.runStage(reduceStep, reduceInputs, bc));
    },
  };
}

/**
 * {@link keyedShuffle}'s work for an operator that has not registered it: its tasks run in the
 * driver (`executor.run`). For operators whose combine depends on what they hold in memory.
 */
export async function combineByKeyBatch<K extends Key, V, C>(
  bc: BatchContext,
  input: Batch<Pair<K, V>>,
  numPartitions: number,
  combiner: Combiner<V, C>,
  policy: ErrorPolicy,
  stages?: readonly Stage<unknown, unknown>[],
): Promise<Batch<Pair<K, C>>> {
  const mapOutputs = await bc.executor.run(input.partitions.map((partition) => () => combineMap<K, V, C>(partition, numPartitions, combiner, policy, stages, bc.recordErrors)));
  const reduced = await bc.executor.run(Array.from({ length: numPartitions }, (_, p) => () => combineReduce(mapOutputs.map((buckets) => buckets[p] as Bucket<K, C>), combiner.mergeCombiners, policy)));
  return new Batch(reduced);
}

/**
 * A map task: combines one partition's values by key into one bucket per output partition.
 *
 * While every key is primitive, each bucket is a plain `Map` of key to combiner (one `get` and
 * one `set` a record, both on the same entry, as a hand-written loop does; a `KeyMap` reads a
 * second array at the key's slot, one more cache miss a record on a large batch). The first
 * array key moves the buckets into `KeyMap`s, in their order, for the rest of the partition.
 * Either way the keys come out in first-seen order, compared by value as `KeyMap` compares them.
 */
function combineMap<K extends Key, V, C>(
  partition: readonly unknown[],
  numPartitions: number,
  combiner: Combiner<V, C>,
  policy: ErrorPolicy,
  stages: readonly Stage<unknown, unknown>[] | undefined,
  errors: RecordErrors,
  partitioner: Partitioner = partitionOf,
): Bucket<K, C>[] {
  const { create, mergeValue } = combiner;
  const plain = Array.from({ length: numPartitions }, () => new Map<KeyPart, C>());
  let buckets: KeyMap<K, C>[] | undefined;
  // A record changes nothing until its key is checked and `create` or `mergeValue` returned,
  // so a record that throws can be skipped.
  const combine = (record: unknown): void => {
    const pair = record as Pair<K, V>;
    const key = pair[0];
    if (buckets === undefined) {
      if (!Array.isArray(key)) {
        const map = plain[partitioner(key, numPartitions)] as Map<KeyPart, C>;
        const before = map.get(key as KeyPart);
        if (before !== undefined || map.has(key as KeyPart)) {
          map.set(key as KeyPart, mergeValue(before as C, pair[1]));
        } else {
          const value = create(pair[1]);
          assertKeyPart(key);
          // -0 is kept as 0, as KeyMap keeps it.
          map.set(key === 0 ? 0 : key, value);
        }
        return;
      }
      buckets = plain.map((map) => {
        const keyed = new KeyMap<K, C>();
        map.forEach((value, k) => void keyed.add(k as K, value));
        return keyed;
      });
    }
    const bucket = buckets[partitioner(key, numPartitions)] as KeyMap<K, C>;
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
  if (buckets !== undefined) return buckets.map((bucket) => bucket.slots());
  return plain.map((map) => {
    const keys = new Array<K>(map.size);
    const values = new Array<C>(map.size);
    let i = 0;
    map.forEach((value, key) => {
      keys[i] = key as K;
      values[i++] = value;
    });
    return { keys, values };
  });
}

/** A reduce task: merges one output partition's buckets (one per map task, in input-partition order). */
function combineReduce<K extends Key, C>(buckets: readonly Bucket<K, C>[], mergeCombiners: (a: C, b: C) => C, policy: ErrorPolicy): Pair<K, C>[] {
  // One map task: its bucket is the result as it is (keys in first-seen order).
  if (buckets.length === 1) return pairsOf(buckets[0] as Bucket<K, C>);
  const merged = new KeyMap<K, C>();
  try {
    for (const { keys, values } of buckets) {
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i] as K;
        const slot = merged.slotOf(key);
        if (slot < 0) merged.add(key, values[i] as C);
        else merged.setAt(slot, mergeCombiners(merged.valueAt(slot), values[i] as C));
      }
    }
  } catch (error) {
    throw policy.failure(error);
  }
  return pairsOf(merged.slots());
}

function pairsOf<K extends Key, C>({ keys, values }: Bucket<K, C>): Pair<K, C>[] {
  const out = new Array<Pair<K, C>>(keys.length);
  for (let i = 0; i < keys.length; i++) out[i] = [keys[i] as K, values[i] as C];
  return out;
}

/** The two stages behind cogroup and the joins, registered on their operator (see {@link cogroupShuffle}). */
export interface CogroupShuffle<K extends Key> {
  /**
   * Groups the values of every key across several keyed batches: for each key, in first-seen
   * order across the inputs in order, one array of values per input.
   */
  run(bc: BatchContext, inputs: readonly Batch<Pair<K, unknown>>[], numPartitions: number): Promise<Batch<Pair<K, unknown[][]>>>;
}

/** Registers the map (`cogroup`) and reduce (`cogroupReduce`) steps of a cogroup on `node`. */
export function cogroupShuffle<K extends Key>(node: DStream<unknown>): CogroupShuffle<K> {
  const operator = node.describe;
  const mapStep = defineTaskStep(node, 'cogroup', ({ records, numPartitions }: MapInput) => {
    const buckets: Pair<K, unknown>[][] = Array.from({ length: numPartitions }, () => []);
    try {
      for (const pair of records as readonly Pair<K, unknown>[]) (buckets[partitionOf(pair[0], numPartitions)] as Pair<K, unknown>[]).push(pair);
    } catch (error) {
      throw userFunctionFailed(operator, error);
    }
    return buckets;
  });
  // Its input: by input stream, by map task, the pairs of one output partition.
  const reduceStep = defineTaskStep(node, 'cogroupReduce', (sides: readonly (readonly (readonly Pair<K, unknown>[])[])[]) => {
    const groups = new KeyMap<K, unknown[][]>();
    try {
      sides.forEach((mapOutputs, side) => {
        for (const pairs of mapOutputs) {
          for (const [key, value] of pairs) {
            let group = groups.get(key);
            if (group === undefined) {
              group = sides.map(() => []);
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
  });
  return {
    async run(bc, inputs, numPartitions) {
      const bucketed: Pair<K, unknown>[][][][] = [];
      for (const input of inputs) bucketed.push(await bc.executor.runStage(mapStep, input.partitions.map((records) => ({ records, numPartitions })), bc));
      const reduceInputs = Array.from({ length: numPartitions }, (_, p) => bucketed.map((mapOutputs) => mapOutputs.map((buckets) => buckets[p] as Pair<K, unknown>[])));
      return new Batch(await bc.executor.runStage(reduceStep, reduceInputs, bc));
    },
  };
}
