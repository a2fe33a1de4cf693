import { Batch, type DStream, type Key, type OnError, type OnErrorOptions, type Pair, type StaticDataset, type Time } from 'sluice';
import { groupValues, keyedShuffle, keyGroupPartitionOf, keyGroupRange, type KeyedShuffle } from '../core/internal.js';
import { definition, ErrorPolicy, type BatchContext, type Definition, type StateBackend, type TaskContext, type TaskStep } from '../core/extend.js';
import { defineStoreTaskStep, type StoreRows, type StoreTaskInput } from './task-store.js';
import type { KeyGroupPlacement } from './key-group-placement.js';
import { decodeKey, encodeKey } from './key-codec.js';
import { applyInitialState } from './initial-state.js';
import { entryKey, NS } from './state-layout.js';
import type { StoreStats } from './state-store.js';
import type { KeyedStateStream } from './queryable-state.js';
import { StatefulDStream } from './stateful-dstream.js';
import { checkVersioning, migrateValue, type MigrateFunction, type StateVersioning } from './state-version.js';
import { checkStateValue } from './value-codec.js';

/** What the update function of {@link updateStateByKey} knows besides values and state. */
export interface UpdateContext<K extends Key> {
  readonly key: K;
  readonly batchTime: Time;
}

/**
 * Computes a key's new state from the values that arrived for it in the batch (in arrival order,
 * possibly none) and its previous state (`undefined` for a new key). Returning `undefined`
 * removes the key; returning the previous state object itself means "unchanged" (not rewritten).
 */
export type UpdateFunction<K extends Key, V, S> = (values: V[], state: S | undefined, context: UpdateContext<K>) => S | undefined;

/** Options of {@link updateStateByKey}. */
export interface UpdateStateOptions<K extends Key, S> extends OnErrorOptions {
  /** State to start from on a first run. */
  readonly initialState?: StaticDataset<Pair<K, S>>;
  /** Partitions of the state (default: the context's default parallelism). */
  readonly numPartitions?: number;
  /** The operator's stable name: its state is stored and queried under it. */
  readonly name?: string;
  /**
   * What to do with a key whose `update` throws or returns a value that cannot be stored, and
   * with a pair whose key is not a key (default: the context's `onError`, `'fail'` unless set).
   * A skipped or dead-lettered key keeps its previous state (it is emitted with it, if it had
   * one); its dead letter's record is `[key, values]`.
   */
  readonly onError?: OnError;
  /**
   * Keeps this operator's state on this backend rather than on the context's default backend
   * (not with a checkpoint, which keeps every operator's state).
   */
  readonly stateBackend?: StateBackend;
  /**
   * The version of the state values (state schema evolution; default 1): at the first batch of a
   * program with a higher version than the one that wrote the state, every value is brought to it
   * by `migrate(old, fromVersion)` and written back with that batch. A restart with a lower
   * version than the checkpoint's is refused.
   */
  readonly version?: number;
  /** Brings a value an older version wrote to `version` (needed with a version above 1). */
  readonly migrate?: MigrateFunction;
}

/**
 * Keeps a state per key across batches (Spark's `updateStateByKey`): every batch, `update` is
 * called for every key that has state or new values, and the result is a stream of every
 * `[key, state]` after the batch, each partition in key order.
 *
 * **Memory.** State is kept per key until `update` returns `undefined` for it: keys × state
 * size, in the state store (all in memory on the memory backend; on disk with a bounded cache on
 * LevelDB). Every batch reads every key and emits one pair per key, so a batch also holds
 * all keys' states: remove keys you no longer need, or use `mapWithState` with a timeout or TTL.
 *
 * @throws RangeError at once for a bad `numPartitions`, TypeError for a bad `onError`; SluiceError
 * `USER_FUNCTION_FAILED` (failing the batch, when the policy is `'fail'`) when `update` throws or
 * returns a value that cannot be stored, or a key is not a key; `STATE_IO_FAILED` or
 * `STATE_CORRUPT` naming the operator when its state store cannot read, write or decode its state.
 * @example
 * words.pipe(
 *   mapToPair((w) => [w, 1]),
 *   updateStateByKey((ones: number[], total: number | undefined) => (total ?? 0) + ones.length),
 * )
 */
export function updateStateByKey<K extends Key, V, S>(
  update: UpdateFunction<K, V, S>,
  options: UpdateStateOptions<K, S> = {},
): (stream: DStream<Pair<K, V>>) => KeyedStateStream<Pair<K, S>, K, S> {
  if (typeof update !== 'function') throw new TypeError('updateStateByKey: pass the update function (values, state) => newState.');
  const versioning = checkVersioning('updateStateByKey', options.version, options.migrate);
  const { numPartitions } = options;
  if (numPartitions !== undefined && !(Number.isInteger(numPartitions) && numPartitions >= 1)) {
    throw new RangeError(`updateStateByKey: numPartitions must be a positive integer, got ${numPartitions}.`);
  }
  const defined = definition('updateStateByKey', options);
  return (stream) => new UpdateStateDStream(stream, update, options, versioning, defined);
}

interface KeyWork<K, V> {
  /** The key, encoded (its entry row is `entryKey(encoded)`). */
  readonly encoded: string;
  key: K;
  values: V[];
  /** The state the function is given (migrated to the operator's version). */
  state: unknown;
  had: boolean;
  /** The value stored, when the key had one: what the commit need not write again. */
  stored?: unknown;
}

/**
 * A key's work without its stored value (a worker reads it from its cache), and without its state
 * when that is the stored value itself (not migrated).
 */
function stripItem<K, V>(item: KeyWork<K, V>): KeyWork<K, V> {
  const { stored, state, ...rest } = item;
  return item.had && state === stored ? (rest as KeyWork<K, V>) : { ...rest, state };
}

/** A key's work with its stored value (and its state, unless migrated) read from the task's store. */
function refillItem<K, V>(item: KeyWork<K, V>, store: StoreRows): KeyWork<K, V> {
  if (!item.had) return item;
  const stored = store.get(entryKey(item.encoded));
  return { ...item, stored, state: 'state' in item ? item.state : stored };
}

/** The input of an update task: one partition's keys in key order, and the store its writes go to. */
interface UpdateInput<K, V> extends StoreTaskInput {
  readonly items: readonly KeyWork<K, V>[];
}

class UpdateStateDStream<K extends Key, V, S> extends StatefulDStream<Pair<K, S>> implements KeyedStateStream<Pair<K, S>, K, S> {
  declare readonly stateTypes?: { readonly key: K; readonly state: S };
  readonly #parent: DStream<Pair<K, V>>;
  readonly #update: UpdateFunction<K, V, S>;
  readonly #options: UpdateStateOptions<K, S>;
  readonly #versioning: StateVersioning;
  readonly #policy: ErrorPolicy;
  readonly #shuffle: KeyedShuffle<K, V[]>;
  readonly #updateStep: TaskStep<UpdateInput<K, V>, Pair<K, S>[]>;
  readonly #placement: KeyGroupPlacement;

  constructor(parent: DStream<Pair<K, V>>, update: UpdateFunction<K, V, S>, options: UpdateStateOptions<K, S>, versioning: StateVersioning, defined: Definition) {
    super({ kind: 'updateStateByKey', graph: parent.graph, parents: [parent], name: options.name, stateBackend: options.stateBackend, state: { version: versioning.version } });
    this.#parent = parent;
    this.#update = update;
    this.#options = options;
    this.#versioning = versioning;
    this.#policy = new ErrorPolicy(this, defined);
    this.#shuffle = keyedShuffle<K, V, V[]>(this, groupValues<V>(), this.#policy, undefined, 'group', keyGroupPartitionOf);
    // The store's writes: inline on the store itself, from a worker applied in the driver. On a
    // worker, the keys' stored values come from its cache of their key groups.
    const { step, placement } = defineStoreTaskStep(this, 'update', (input: UpdateInput<K, V>, tc) => this.#updatePartition(input, tc), {
      rows: (input, visit) => {
        for (const item of input.items) visit(entryKey(item.encoded), item.had ? item.stored : undefined);
      },
      strip: (input) => ({ ...input, items: input.items.map(stripItem) }),
      refill: (input, store) => ({ ...input, items: input.items.map((item) => refillItem(item, store)) }),
    });
    this.#updateStep = step;
    this.#placement = placement;
  }

  /** Runs the update function over one partition's keys (in key order), staging the state writes in `store`. */
  #updatePartition({ items, store }: UpdateInput<K, V>, tc: TaskContext): Pair<K, S>[] {
    const out: Pair<K, S>[] = [];
    for (const item of items) {
      let next: S | undefined;
      try {
        next = this.#update(item.values, item.state as S | undefined, { key: item.key, batchTime: tc.batchTime });
        // What the function returned is its to fix, as what it throws.
        if (next !== undefined && next !== item.state) checkStateValue(next, 'state value');
      } catch (error) {
        this.#policy.reject(tc.recordErrors, [item.key, item.values], error);
        // Set aside: the key keeps the state it had (migrated, so written back as if kept).
        next = item.state as S | undefined;
      }
      if (next === undefined) {
        if (item.had) store.delete(entryKey(item.encoded));
        continue;
      }
      if (next !== (item.had ? item.stored : undefined)) store.put(entryKey(item.encoded), next);
      out.push([item.key, next]);
    }
    return out;
  }

  /** Its keys are its entry rows (`S`); deadline, timer and version rows are not keys. */
  protected override keysIn(stats: StoreStats): number | undefined {
    return stats.namespaces === undefined ? undefined : (stats.namespaces[NS.entry] ?? 0);
  }

  override stateOf(entry: unknown): unknown {
    return entry;
  }

  protected override async compute(bc: BatchContext): Promise<Batch<Pair<K, S>>> {
    const input = (await this.#parent.getOrCompute(bc)) ?? Batch.empty<Pair<K, V>>();
    const store = this.store;
    const operator = this.describe;
    const n = this.#options.numPartitions ?? bc.defaultParallelism;
    if (this.#options.initialState !== undefined && (await applyInitialState(store, this.#options.initialState, operator, (state) => state))) this.#placement.invalidateAll();
    const work = Array.from({ length: n }, () => new Map<string, KeyWork<K, V>>());
    // Every key is read every batch: values an older state version wrote are all migrated, and
    // written back, in the first batch that reads them.
    await store.load([NS.version]);
    const from = (store.get(NS.version) as number | undefined) ?? 1;
    const { version } = this.#versioning;
    if (from !== version) store.put(NS.version, version);
    for await (const [row, stored] of store.scan({ prefix: NS.entry })) {
      const key = decodeKey(row.slice(1)) as K;
      const state = from === version ? stored : migrateValue(this.#versioning, stored, from, operator, JSON.stringify(key, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v)));
      // A migrated value differs from the stored one: written back even if the function keeps it.
      (work[keyGroupPartitionOf(key, n)] as Map<string, KeyWork<K, V>>).set(row.slice(1), { encoded: row.slice(1), key, values: [], state, had: true, stored });
    }
    const grouped = await this.#shuffle.run(bc, input, n);
    grouped.partitions.forEach((partition, p) => {
      const keys = work[p] as Map<string, KeyWork<K, V>>;
      for (const [key, values] of partition) {
        const encoded = encodeKey(key);
        const known = keys.get(encoded);
        if (known === undefined) keys.set(encoded, { encoded, key, values, state: undefined, had: false });
        else known.values = values;
      }
    });
    const inputs = work.map((keys, p): UpdateInput<K, V> => ({ store, groups: keyGroupRange(p, n), items: [...keys.keys()].sort().map((encoded) => keys.get(encoded) as KeyWork<K, V>) }));
    const partitions = await bc.executor.runStage(this.#updateStep, inputs, bc);
    this.reportState(bc);
    return new Batch(partitions);
  }
}

