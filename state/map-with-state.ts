import { Batch, DStream, type Key, type Pair, type Time } from 'sluice';
import { groupValues, keyedShuffle, keyGroupPartitionOf, keyGroupRange, watermarkedAncestors, type KeyedShuffle } from '../core/internal.js';
import { definition, ErrorPolicy, type BatchContext, type Definition, type TaskContext, type TaskStep } from '../core/extend.js';
import { defineStoreTaskStep, type StoreRows, type StoreTaskInput } from './task-store.js';
import type { KeyGroupPlacement } from './key-group-placement.js';
import { decodeKey, encodeKey } from './key-codec.js';
import { applyInitialState } from './initial-state.js';
import { StateHandle, stateAt, type StateEntry } from './state-handle.js';
import { deadlinesBefore, DEADLINE_KIND, entryKey, eventDeadlineKey, eventDeadlinesBefore, noWatermarkKey, NS, parseDeadlineKey, parseEventDeadlineKey, parseTimerKey, timersUpTo, type TimeDomain } from './state-layout.js';
import type { StateSpec } from './state-spec.js';
import type { StateStore, StoreKey, StoreStats } from './state-store.js';
import type { KeyedStateStream } from './queryable-state.js';
import { StatefulDStream } from './stateful-dstream.js';

/** A timer due in this batch. */
interface DueTimer {
  readonly row: StoreKey;
  readonly key: StoreKey;
  readonly time: number;
  readonly domain: TimeDomain;
}

/** What is due in a batch besides its records, found by range scans before the batch runs. */
interface DueWork {
  readonly timers: DueTimer[];
  readonly timeouts: StoreKey[];
}

/** The input of a mapWithState task: one partition's keys and values, timers and timeouts, and the store its writes go to. */
interface MapStateInput<K extends Key, V> extends StoreTaskInput {
  readonly partition: readonly Pair<K, V[]>[];
  /** The partition's keys, encoded. */
  readonly keys: readonly StoreKey[];
  readonly timers: readonly DueTimer[];
  readonly timeouts: readonly StoreKey[];
  readonly watermark: Time | undefined;
}

/**
 * The stream `mapWithState` returns: the mapped records, and the state through
 * {@link MapWithStateDStream.stateSnapshots}.
 */
export class MapWithStateDStream<K extends Key, V, S, M> extends StatefulDStream<M> implements KeyedStateStream<M, K, S> {
  /** The types of the operator's keys and states, for the compiler only (see `queryableState`): never set. */
  declare readonly stateTypes?: { readonly key: K; readonly state: S };
  readonly #parent: DStream<Pair<K, V>>;
  readonly #spec: StateSpec<K, V, S, M>;
  /** The watermarked streams upstream: event-time timers and TTL follow their watermark. */
  readonly #watermarkIds: readonly number[];
  #snapshots: DStream<Pair<K, S>> | undefined;
  readonly #policy: ErrorPolicy;
  readonly #shuffle: KeyedShuffle<K, V[]>;
  readonly #mapStep: TaskStep<MapStateInput<K, V>, M[]>;
  /** Where its key groups' state lives on worker threads: rows it writes in the driver make their groups' caches stale. */
  readonly #placement: KeyGroupPlacement;

  constructor(parent: DStream<Pair<K, V>>, spec: StateSpec<K, V, S, M>, defined: Definition) {
    super({
      kind: 'mapWithState',
      graph: parent.graph,
      parents: [parent],
      name: spec.settings.name,
      stateBackend: spec.settings.stateBackend,
      // Deadline rows of a time-to-live live in the namespace of its time domain.
      state: { config: { ttlTimeDomain: spec.settings.ttl?.timeDomain ?? null }, version: spec.settings.versioning.version },
    });
    this.#parent = parent;
    this.#spec = spec;
    this.#watermarkIds = watermarkedAncestors(parent as DStream<unknown>).map((node) => node.id);
    this.#policy = new ErrorPolicy(this, defined);
    this.#shuffle = keyedShuffle<K, V, V[]>(this, groupValues<V>(), this.#policy, undefined, 'group', keyGroupPartitionOf);
    // The rows a task reads: its keys' entries, and its due timers' rows.
    const rows = (input: MapStateInput<K, V>, visit: (row: StoreKey, value: unknown) => void): void => {
      const row = (key: StoreKey): void => {
        visit(key, input.store.has(key) ? input.store.get(key) : undefined);
      };
      for (const key of input.keys) row(entryKey(key));
      for (const timer of input.timers) {
        row(entryKey(timer.key));
        row(timer.row);
      }
      for (const key of input.timeouts) row(entryKey(key));
    };
    const { step, placement } = defineStoreTaskStep(this, 'map', (input: MapStateInput<K, V>, tc) => this.#mapPartition(input, tc), { rows });
    this.#mapStep = step;
    this.#placement = placement;
  }

  /** The event-time watermark of this operator's input (the global one when none is upstream). */
  #watermark(bc: BatchContext): Time | undefined {
    return this.#watermarkIds.length === 0 ? bc.watermark : bc.watermarkOf(this.#watermarkIds);
  }

  /** Every `[key, state]` after each batch (Spark's `stateSnapshots()`), in key order. */
  stateSnapshots(): DStream<Pair<K, S>> {
    this.#snapshots ??= new StateSnapshotDStream<K, S>(this);
    return this.#snapshots;
  }

  /** Its keys are its entry rows (`S`); deadline, timer and version rows are not keys. */
  protected override keysIn(stats: StoreStats): number | undefined {
    return stats.namespaces === undefined ? undefined : (stats.namespaces[NS.entry] ?? 0);
  }

  override stateOf(entry: unknown, key: StoreKey): unknown {
    return stateAt(entry as StateEntry, this.#spec.settings.versioning, this.describe, key);
  }

  protected override async compute(bc: BatchContext): Promise<Batch<M>> {
    const input = (await this.#parent.getOrCompute(bc)) ?? Batch.empty<Pair<K, V>>();
    const store = this.store;
    const operator = this.describe;
    const { settings } = this.#spec;
    const numPartitions = settings.numPartitions ?? bc.defaultParallelism;
    if (settings.initialState !== undefined && (await applyInitialState(store, settings.initialState, operator, (state) => [state, bc.batchTime, bc.batchTime, this.#watermark(bc) ?? null] satisfies StateEntry))) {
      this.#placement.invalidateAll();
    }
    await this.#expireTtl(store, bc);
    const grouped = await this.#shuffle.run(bc, input, numPartitions);
    const due = await this.#dueWork(store, bc);
    const keysOf = grouped.partitions.map((partition) => partition.map(([key]) => encodeKey(key)));
    // The rows to load, in one array (no intermediate copy per record).
    const rows: StoreKey[] = [];
    for (const keys of keysOf) for (let i = 0; i < keys.length; i++) rows.push(entryKey(keys[i] as StoreKey));
    for (const timer of due.timers) rows.push(entryKey(timer.key), timer.row);
    for (const key of due.timeouts) rows.push(entryKey(key));
    await store.load(rows);
    const timersByPartition = byPartition(due.timers, (t) => t.key, numPartitions);
    const timeoutsByPartition = byPartition(due.timeouts, (k) => k, numPartitions);
    const watermark = this.#watermark(bc);
    const inputs = grouped.partitions.map((partition, p): MapStateInput<K, V> => ({
      store,
      groups: keyGroupRange(p, numPartitions),
      partition,
      keys: keysOf[p] ?? [],
      timers: timersByPartition[p] ?? [],
      timeouts: timeoutsByPartition[p] ?? [],
      watermark,
    }));
    const partitions = await bc.executor.runStage(this.#mapStep, inputs, bc);
    this.reportState(bc);
    return new Batch(partitions);
  }

  /** One partition's task: its records, then its due timers, then its timeouts, staging state writes in `input.store`. */
  #mapPartition(input: MapStateInput<K, V>, tc: TaskContext): M[] {
    const { settings } = this.#spec;
    const out: M[] = [];
    const handle = new StateHandle<S>({ timeout: settings.timeout, ttl: settings.ttl, hasTimerFunction: settings.onTimer !== undefined }, settings.versioning);
    this.#processRecords(input.store, handle, input.partition, input.keys, tc, input.watermark, out);
    this.#fireTimers(input.store, handle, input.timers, tc, input.watermark, out);
    this.#timeOut(input.store, handle, input.timeouts, tc, input.watermark, out);
    return out;
  }

  #processRecords(store: StoreRows, handle: StateHandle<S>, partition: readonly Pair<K, V[]>[], keys: readonly StoreKey[], bc: TaskContext, watermark: Time | undefined, out: M[]): void {
    const fn = this.#spec.fn;
    const policy = this.#policy;
    const guarded = policy.onError !== 'fail';
    for (let i = 0; i < partition.length; i++) {
      const [key, values] = partition[i] as Pair<K, V[]>;
      handle.bind(store, keys[i] as StoreKey, this.describe, false);
      for (const value of values) {
        handle.beginCall();
        handle.touch();
        if (guarded) handle.mark();
        let mapped: M | undefined;
        try {
          mapped = fn(key, value, handle);
        } catch (error) {
          policy.reject(bc.recordErrors, [key, value], error);
          handle.rollback();
          continue;
        }
        if (mapped !== undefined) out.push(mapped);
      }
      handle.flush(bc.batchTime, watermark);
    }
  }

  #fireTimers(store: StoreRows, handle: StateHandle<S>, timers: readonly DueTimer[], bc: TaskContext, watermark: Time | undefined, out: M[]): void {
    const onTimer = this.#spec.settings.onTimer;
    for (const timer of timers) {
      if (!store.has(timer.row) || onTimer === undefined) continue;
      store.delete(timer.row);
      handle.bind(store, timer.key, this.describe, false);
      const key = decodeKey(timer.key) as K;
      const fired = { time: timer.time, domain: timer.domain };
      handle.mark();
      let mapped: M | undefined;
      try {
        mapped = onTimer(key, fired, handle);
      } catch (error) {
        this.#policy.reject(bc.recordErrors, [key, fired], error);
        handle.rollback();
      }
      if (mapped !== undefined) out.push(mapped);
      handle.flush(bc.batchTime, watermark);
    }
  }

  #timeOut(store: StoreRows, handle: StateHandle<S>, keys: readonly StoreKey[], bc: TaskContext, watermark: Time | undefined, out: M[]): void {
    const timeout = this.#spec.settings.timeout;
    if (timeout === undefined) return;
    for (const key of keys) {
      const entry = store.get(entryKey(key)) as StateEntry | undefined;
      // Still idle? A record in this batch (or a timer's update) has moved its deadline on.
      if (entry === undefined || entry[1] + timeout >= bc.batchTime) continue;
      handle.bind(store, key, this.describe, true);
      const decoded = decodeKey(key) as K;
      let mapped: M | undefined;
      try {
        mapped = this.#spec.fn(decoded, undefined, handle);
      } catch (error) {
        // A timing-out key is removed all the same.
        this.#policy.reject(bc.recordErrors, [decoded, undefined], error);
      }
      if (mapped !== undefined) out.push(mapped);
      handle.flush(bc.batchTime, watermark);
    }
  }

  /** Timers due and keys idle past the timeout, found before any record is processed. */
  async #dueWork(store: StateStore, bc: BatchContext): Promise<DueWork> {
    const timers: DueTimer[] = [];
    const timeouts: StoreKey[] = [];
    if (this.#spec.settings.onTimer !== undefined) {
      const domains: [TimeDomain, Time | undefined][] = [['processing', bc.batchTime], ['event', this.#watermark(bc)]];
      for (const [domain, upTo] of domains) {
        if (upTo === undefined) continue;
        for await (const [row] of store.scan(timersUpTo(domain, upTo))) {
          const timer = parseTimerKey(row);
          timers.push({ row, key: timer.key, time: timer.time, domain });
        }
      }
    }
    if (this.#spec.settings.timeout !== undefined) {
      for await (const [row] of store.scan(deadlinesBefore(bc.batchTime))) {
        const deadline = parseDeadlineKey(row);
        if (deadline.kind === DEADLINE_KIND.timeout) timeouts.push(deadline.key);
      }
    }
    return { timers, timeouts };
  }

  /**
   * Gives the entries written before there was a watermark their event-time TTL deadline, from
   * `watermark` (the first one they see): as if written under it.
   */
  async #giveDeadlines(store: StateStore, watermark: Time, duration: number): Promise<void> {
    const waiting: StoreKey[] = [];
    for await (const [row] of store.scan({ prefix: NS.noWatermark })) waiting.push(row.slice(NS.noWatermark.length));
    if (waiting.length === 0) return;
    await store.load(waiting.map(entryKey));
    for (const key of waiting) {
      this.#placement.invalidateKey(key);
      store.delete(noWatermarkKey(key));
      const entry = store.get(entryKey(key)) as StateEntry | undefined;
      if (entry === undefined || entry[3] !== null) continue;
      store.put(entryKey(key), [entry[0], entry[1], entry[2], watermark] satisfies StateEntry);
      store.put(eventDeadlineKey(watermark + duration, key), 1);
    }
  }

  /** Removes the entries whose time to live has passed, before the batch's records see them. */
  async #expireTtl(store: StateStore, bc: BatchContext): Promise<void> {
    const ttl = this.#spec.settings.ttl;
    if (ttl === undefined) return;
    const expired: StoreKey[] = [];
    if (ttl.timeDomain === 'processing') {
      for await (const [row] of store.scan(deadlinesBefore(bc.batchTime))) {
        const deadline = parseDeadlineKey(row);
        if (deadline.kind === DEADLINE_KIND.ttl) expired.push(deadline.key);
      }
    } else {
      const watermark = this.#watermark(bc);
      if (watermark === undefined) return;
      await this.#giveDeadlines(store, watermark, ttl.duration);
      for await (const [row] of store.scan(eventDeadlinesBefore(watermark))) expired.push(parseEventDeadlineKey(row).key);
    }
    if (expired.length === 0) return;
    await store.load(expired.map(entryKey));
    const handle = new StateHandle<S>({ timeout: this.#spec.settings.timeout, ttl, hasTimerFunction: false }, this.#spec.settings.versioning);
    for (const key of expired) {
      this.#placement.invalidateKey(key);
      handle.bind(store, key, this.describe, false);
      handle.remove();
      handle.flush(bc.batchTime, this.#watermark(bc));
    }
  }
}


function byPartition<T>(items: readonly T[], keyOf: (item: T) => StoreKey, numPartitions: number): T[][] {
  const out: T[][] = Array.from({ length: numPartitions }, () => []);
  for (const item of items) (out[keyGroupPartitionOf(decodeKey(keyOf(item)), numPartitions)] as T[]).push(item);
  return out;
}

/** Every `[key, state]` of a stateful operator after each batch, in key order. */
export class StateSnapshotDStream<K extends Key, S> extends DStream<Pair<K, S>> {
  readonly #owner: StatefulDStream<unknown>;

  constructor(owner: StatefulDStream<unknown>) {
    super({ kind: 'stateSnapshots', graph: owner.graph, parents: [owner] });
    this.#owner = owner;
  }

  protected override async compute(bc: BatchContext): Promise<Batch<Pair<K, S>>> {
    await this.#owner.getOrCompute(bc);
    const out: Pair<K, S>[] = [];
    for await (const [row, entry] of this.#owner.store.scan({ prefix: NS.entry })) {
      out.push([decodeKey(row.slice(1)) as K, this.#owner.stateOf(entry, row.slice(1)) as S]);
    }
    return Batch.of(out, bc.defaultParallelism);
  }
}

/**
 * Keeps state per key and maps each record with it (Spark's `mapWithState`): for every record
 * `[key, value]`, calls the spec's function with the key's {@link State}, emitting what it
 * returns. Keys idle past the spec's timeout get one last call and are removed; timers and a TTL
 * are available through the spec.
 *
 * Within a batch, for each partition: records grouped by key in arrival order, then due timers
 * in time order, then timeouts. State changes commit with the batch.
 *
 * **Memory.** State is kept per key until the function removes it, or the spec's timeout or TTL
 * does: keys × state size, plus one deadline row per key under a timeout or TTL and one row per
 * pending timer, in the state store (all in memory on the memory backend; on disk with a bounded
 * cache on LevelDB, where a batch reads only its own keys and due deadlines). Without a timeout,
 * TTL or removal, the keys grow with every new key.
 *
 * The function's `State` follows Spark's rules (see its TSDoc): `update()` or `remove()` of a
 * timing-out key, or after `remove()` in the same call, throws a `TypeError`, as `get()` of a key
 * with no state does.
 *
 * @throws SluiceError `USER_FUNCTION_FAILED` (failing the batch, under the spec's `onError` policy
 * `'fail'`, the default) when the function (or `onTimer`) throws, breaks a rule of `State`, or
 * stores a value that is not storable, or a key is not a key; `STATE_IO_FAILED` or
 * `STATE_CORRUPT` naming the operator when its state store cannot read, write or decode its state.
 * @example
 * clicks.pipe(
 *   keyBy((c) => c.user),
 *   mapWithState(stateSpec((user: string, click: Click | undefined, state: State<number>) => {
 *     const count = (state.getOption() ?? 0) + 1;
 *     if (!state.isTimingOut()) state.update(count);
 *     return [user, count] as const;
 *   }).timeout('30m')),
 * )
 */
export function mapWithState<K extends Key, V, S, M>(spec: StateSpec<K, V, S, M>): (stream: DStream<Pair<K, V>>) => MapWithStateDStream<K, V, S, M> {
  const defined = definition('mapWithState', { name: spec.settings.name, onError: spec.settings.onError });
  return (stream) => new MapWithStateDStream(stream, spec, defined);
}
