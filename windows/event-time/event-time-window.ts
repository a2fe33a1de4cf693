/*
 * Over 400 lines on purpose: the operator's batch life cycle (compute, the commit participant's
 * prepare/committed/aborted, restore from rows, the late-record side output) shares its private
 * state; split, those parts would have to expose it. Its helpers live beside it (window-table,
 * live-windows, window-strategy, window-rows).
 */
import { Batch, type DStream, type Key, type Pair } from 'sluice';
import { combineByKeyBatch, eventTimeBreak, groupValues } from '../../core/internal.js';
import { definition, ErrorPolicy, fusableChain, hashKey, keepLastResults, KeyMap, parseDuration, StatefulDStream, type BatchContext, type Definition, type FusedChain, type StateBackend, type StateStore } from 'sluice/extend';
import { forEachInputRecord } from './fused-input.js';
import { numericTermOf } from './aggregators.js';
import { checkedTime } from './checked-time.js';
import { PendingBatch } from './pending-batch.js';
import type { Aggregator } from './aggregator.js';
import type { EventTimeWindowOptions, OutputMode, RetractingOutputMode, Settings, WindowOutput, WindowResult } from './window-options.js';
import type { TimeWindow } from './time-window.js';
import { assignerConfig, type WindowAssigner } from './window-assigner.js';
import { BatchChanges } from './batch-changes.js';
import { LateRecordsDStream } from './late-records.js';
import { LiveWindows, orderOf, sortWindows, type KeyedWindow } from './live-windows.js';
import type { SessionWindows } from './session-windows.js';
import { parseRow, VERSION_ROW, WATERMARK_ROW } from './window-rows.js';
import { WindowTable } from './window-table.js';
import type { WindowEntries } from './window-entries.js';
import { strategyFor, type WindowStrategy } from './window-strategy.js';
import { watermarkedStreams } from './with-watermark.js';
import { checkVersioning, migrateValue, type StateVersioning } from '../../state/internal.js';

/**
 * The stream {@link eventTimeWindow} returns; `lateRecords()` is its side output. `O` is what it
 * emits: {@link WindowResult}s, and for session windows in `'update'` and `'onTimeAndLate'` mode
 * {@link WindowRetraction}s too ({@link WindowOutput}).
 */
export class EventTimeWindowDStream<K extends Key, V, R, O extends WindowOutput<K, R> = WindowResult<K, R>> extends StatefulDStream<O> {
  readonly #parent: DStream<Pair<K, V>>;
  readonly #aggregator: Aggregator<V, unknown, R>;
  readonly #versioning: StateVersioning;
  readonly #strategy: WindowStrategy;
  readonly #settings: Settings<V>;
  readonly #watermarkIds: readonly number[];
  readonly #live = new LiveWindows();
  readonly #table = new WindowTable();
  /** Whether the table was loaded from the store once. */
  #loaded = false;
  readonly #pending: PendingBatch;
  /** Whether the live windows must be rebuilt from the table (after a load or a rollback). */
  #stale = false;
  #late: { batchId: number; records: Pair<K, V>[] } | undefined;
  #lateStream: DStream<Pair<K, V>> | undefined;
  readonly #policy: ErrorPolicy;

  constructor(
    parent: DStream<Pair<K, V>>,
    assigner: WindowAssigner,
    aggregator: Aggregator<V, unknown, R>,
    settings: Settings<V>,
    options: { readonly name: string | undefined; readonly stateBackend: StateBackend | undefined; readonly versioning: StateVersioning; readonly defined: Definition; readonly kind?: string },
  ) {
    super({
      // An operator built on this one (windowJoin) names its own kind: its default id counts its kind.
      kind: options.kind ?? 'eventTimeWindow',
      graph: parent.graph,
      parents: [parent],
      name: options.name,
      stateBackend: options.stateBackend,
      state: { config: { ...assignerConfig(assigner), aggregator: aggregator.name ?? null }, version: options.versioning.version },
    });
    this.#versioning = options.versioning;
    this.#parent = parent;
    this.#aggregator = aggregator;
    // The strategy adds only this stream's values, which are Vs.
    this.#strategy = strategyFor(assigner, aggregator as Aggregator<unknown, unknown, R>);
    this.#settings = settings;
    this.#watermarkIds = watermarkedStreams(parent as DStream<unknown>).map((w) => w.id);
    this.#policy = new ErrorPolicy(this, options.defined);
    // The window table's changes of a batch settle when it has committed and roll back when not.
    this.#pending = new PendingBatch(this, { settle: () => { this.#table.settle(); }, rollback: () => { this.#table.rollback(); this.#stale = true; } });
  }

  override stateOf(entry: unknown): unknown {
    return entry;
  }

  /**
   * The records that arrived after all their windows had closed, one batch per batch (the side
   * output of `late: 'sideOutput'`).
   *
   * @throws TypeError when the late policy is not `'sideOutput'`.
   */
  lateRecords(): DStream<Pair<K, V>> {
    if (this.#settings.late !== 'sideOutput') {
      throw new TypeError(`${this.describe}: lateRecords() needs the option late: 'sideOutput' (the policy is '${this.#settings.late}').`);
    }
    this.#lateStream ??= new LateRecordsDStream(this, (batchId) => this.lateOf(batchId));
    return this.#lateStream;
  }

  /** @internal The late records of batch `batchId` (after the operator computed it). */
  lateOf(batchId: number): Pair<K, V>[] {
    return this.#late?.batchId === batchId ? this.#late.records : [];
  }

  protected override async compute(bc: BatchContext): Promise<Batch<O>> {
    // Tumbling, calendar and sliding windows run the narrow chain before them (mapToPair, keyBy,
    // map...) in their own pass over its root's records; sessions shuffle the parent's pairs.
    const chain = this.#strategy.lateNeedsState ? undefined : fusableChain(this.#parent);
    const input: Batch<unknown> = (await (chain?.root ?? this.#parent).getOrCompute(bc)) ?? Batch.empty<unknown>();
    const store = this.store;
    const out: WindowOutput<K, R>[] = [];
    // Reading and writing the store stay outside the try below: their failures keep their own
    // codes (STATE_IO_FAILED, STATE_CORRUPT) rather than read as the user functions'.
    await store.load([WATERMARK_ROW, VERSION_ROW]);
    const last = store.get(WATERMARK_ROW) as number | undefined;
    // From here the table holds the batch's changes (a migration at the first batch included):
    // settled when it commits, rolled back when not (also when a function below throws halfway).
    this.#pending.open(bc.batchId);
    await this.#sync(store, last);
    const watermark = this.#watermark(store, bc, last);
    const closedUpTo = this.#closedUpTo(watermark);
    const mode = this.#settings.outputMode;
    const strategy = this.#strategy;
    // onTimeAndLate: a window has fired once the watermark of the batch before passed it (derived
    // from the stored watermark, so a replayed batch decides the same).
    const fired = (w: TimeWindow): boolean => last !== undefined && strategy.isPassed(w, last);
    const changes = mode === 'update' ? new BatchChanges(() => true) : mode === 'onTimeAndLate' ? new BatchChanges(fired) : undefined;
    let late: Pair<K, V>[];
    try {
      // The aggregator, the event-time extractor and the assigner's functions run in here.
      this.#close(closedUpTo, out, mode === 'append' ? () => true : mode === 'onTimeAndLate' ? (w) => !fired(w) : undefined);
      late = await this.#add(bc, input, chain, closedUpTo, changes);
      this.#live.compact();
      if (changes !== undefined) {
        for (const { key, window } of changes.retractions()) out.push({ key: key as K, window, retracted: true });
      }
      if (mode === 'update') this.#emit((changes as BatchChanges).windows(), out);
      if (mode === 'onTimeAndLate' && watermark !== undefined) this.#emit(this.#firing(watermark, last, changes as BatchChanges), out);
      if (mode === 'complete') this.#emitAll(out);
    } catch (error) {
      throw this.#policy.failure(error);
    }
    this.#late = { batchId: bc.batchId, records: late };
    if (store.inMemory !== true) this.#table.changes((slot, key, value) => {
      const row = this.#strategy.rowOf(slot, key);
      if (value === undefined) store.delete(row);
      else store.put(row, value);
    });
    this.reportState(bc, { lateRecordsDropped: this.#settings.late === 'drop' ? late.length : 0, stateRows: this.#table.size });
    return Batch.of(out as O[], bc.defaultParallelism);
  }

  /**
   * Where windows close: `watermark - allowedLateness` (a window `w` is closed when
   * `isPassed(w, closedUpTo)`), or never in complete mode, which keeps every window.
   */
  #closedUpTo(watermark: number | undefined): number {
    if (watermark === undefined || this.#settings.outputMode === 'complete') return Number.NEGATIVE_INFINITY;
    return watermark - this.#settings.lateness;
  }

  /**
   * The windows onTimeAndLate mode fires after the batch's records are added, in the defined
   * order: on time, those the batch's watermark passes and the one before did not (`last`); late,
   * those the watermark passed already whose result the batch's records changed.
   */
  #firing(watermark: number, last: number | undefined, changes: BatchChanges): KeyedWindow[] {
    const strategy = this.#strategy;
    const { slotWindow } = strategy;
    const due = (w: TimeWindow): boolean => strategy.isPassed(w, watermark) && (last === undefined || !strategy.isPassed(w, last));
    const firing: KeyedWindow[] = [];
    if (slotWindow === undefined) {
      for (const kw of this.#live.endingBetween(last ?? Number.NEGATIVE_INFINITY, watermark)) if (due(kw.window)) firing.push(kw);
    } else {
      for (const slot of this.#slotsInOrder(due)) {
        const window = slotWindow(slot);
        (this.#table.entriesOf(slot) as WindowEntries).forEach((_acc, key) => void firing.push({ key, window }));
      }
    }
    const lateChanged = changes.windows().filter(({ window }) => strategy.isPassed(window, watermark) && !due(window));
    return lateChanged.length === 0 && slotWindow === undefined ? firing : sortWindows([...firing, ...lateChanged]);
  }

  /**
   * Loads the window table from the store's rows at the first batch (a store in memory holds no
   * window rows: the table is the state), and rebuilds the live windows from the table after a
   * load or a rollback.
   */
  async #sync(store: StateStore, lastWatermark: number | undefined): Promise<void> {
    const table = this.#table;
    if (!this.#loaded) {
      table.clear();
      for await (const [row, value] of store.scan()) {
        const entry = this.#strategy.entryOf(parseRow(row));
        if (entry !== undefined) table.set(entry.slot, entry.key, value);
      }
      table.settle();
      this.#migrate(store);
      this.#loaded = true;
      this.#stale = true;
    }
    if (!this.#stale) return;
    this.#stale = false;
    this.#strategy.reset?.();
    const live = this.#live;
    live.clear();
    const closedUpTo = this.#closedUpTo(lastWatermark);
    for (const slot of table.slots()) {
      table.entriesOf(slot)?.forEach((value, key) => { this.#strategy.restore(slot, key, value, closedUpTo, live); });
    }
  }

  /**
   * Brings every accumulator the table loaded to the aggregator's version, when an older one wrote
   * them (row `V`): they are written back, with the new version, by the batch's commit.
   */
  #migrate(store: StateStore): void {
    const from = (store.get(VERSION_ROW) as number | undefined) ?? 1;
    const { version } = this.#versioning;
    if (from === version) return;
    const table = this.#table;
    const strategy = this.#strategy;
    for (const slot of [...table.slots()]) {
      const entries: [Key, unknown][] = [];
      table.entriesOf(slot)?.forEach((value, key) => void entries.push([key, value]));
      for (const [key, value] of entries) {
        table.set(slot, key, strategy.mapAccumulators(value, (acc) => migrateValue(this.#versioning, acc, from, this.describe, JSON.stringify(key, bigints))));
      }
    }
    store.put(VERSION_ROW, version);
  }

  /** This operator's watermark: the planned one of its inputs, never below the last it used. */
  #watermark(store: StateStore, bc: BatchContext, last: number | undefined): number | undefined {
    const planned = bc.watermarkOf(this.#watermarkIds);
    const watermark = planned === undefined ? last : Math.max(last ?? planned, planned);
    if (watermark !== undefined && watermark !== last) store.put(WATERMARK_ROW, watermark);
    return watermark;
  }

  /**
   * Evicts every window closed at `closedUpTo` (`isPassed`), emitting, in the defined order, the
   * result of those that `emit` says (append: all; onTimeAndLate: those not fired yet).
   */
  #close(closedUpTo: number, out: WindowOutput<K, R>[], emit: ((w: TimeWindow) => boolean) | undefined): void {
    if (closedUpTo === Number.NEGATIVE_INFINITY) return;
    const strategy = this.#strategy;
    const table = this.#table;
    const append = emit !== undefined;
    const { slotWindow } = strategy;
    if (slotWindow !== undefined) {
      // One window per slot: close whole slots, in the order of their windows.
      for (const slot of this.#slotsInOrder((w) => strategy.isPassed(w, closedUpTo))) {
        const entries = table.takeSlot(slot);
        if (append && entries !== undefined && emit(slotWindow(slot))) this.#pushAll(slotWindow(slot), entries, out);
      }
      return;
    }
    const closing = this.#live.endingUpTo(closedUpTo).filter(({ window }) => strategy.isPassed(window, closedUpTo));
    if (closing.length === 0) return;
    if (strategy.closeRun !== undefined) {
      // Each key's closing windows together (they come ascending by end), in runs of overlapping windows.
      const runs: { readonly key: Key; readonly run: number[] }[] = [];
      const current = new KeyMap<Key, number[]>();
      closing.forEach(({ key, window }, i) => {
        const run = current.get(key);
        if (run !== undefined && window.start < (closing[run[run.length - 1] as number] as KeyedWindow).window.end) {
          run.push(i);
        } else {
          const started = [i];
          current.set(key, started);
          runs.push({ key, run: started });
        }
      });
      const accs: unknown[] = new Array<unknown>(closing.length);
      for (const { key, run } of runs) {
        const windows = run.map((i) => (closing[i] as KeyedWindow).window);
        strategy.closeRun(table, key, windows, this.#live, append ? (i, acc) => (accs[run[i] as number] = acc) : undefined);
      }
      if (append) {
        closing.forEach(({ key, window }, i) => {
          if (accs[i] !== undefined && emit(window)) out.push({ key: key as K, window, value: this.#aggregator.result(accs[i]) });
        });
      }
    } else {
      for (const { key, window } of closing) {
        if (append && emit(window)) this.#push(key, window, out);
        strategy.evict(table, key, window);
      }
    }
    this.#live.removeAll(closing);
  }

  /** The slots of a one-window-per-slot strategy whose window passes `test`, ascending (by end, then start). */
  #slotsInOrder(test: (w: TimeWindow) => boolean): number[] {
    const slotWindow = this.#strategy.slotWindow as (slot: number) => TimeWindow;
    return [...this.#table.slots()].filter((slot) => test(slotWindow(slot))).sort((a, b) => a - b);
  }

  /** Pushes the result of every entry of one window, in the defined key order (see `LiveWindows`). */
  #pushAll(window: TimeWindow, entries: WindowEntries, out: WindowOutput<K, R>[]): void {
    const n = entries.size;
    const keys = new Array<Key>(n);
    const values = new Array<unknown>(n);
    const hashes = new Uint32Array(n);
    entries.collect(keys, values, hashes);
    const shared = Object.freeze({ start: window.start, end: window.end });
    const aggregator = this.#aggregator;
    // count and sum: the accumulator is the result.
    const plain = numericTermOf(aggregator) !== undefined;
    const order = orderOf(keys, undefined, hashes);
    for (let j = 0; j < n; j++) {
      const at = order[j] as number;
      out.push({ key: keys[at] as K, window: shared, value: plain ? (values[at] as R) : aggregator.result(values[at]) });
    }
  }

  /**
   * Adds the batch's records to their windows, telling `onChanged` (when given) what changed;
   * returns the late records. `input` is the parent's batch, or the root batch of the fused
   * `chain` whose stages make the parent's records.
   */
  async #add(bc: BatchContext, input: Batch<unknown>, chain: FusedChain | undefined, closedUpTo: number, onChanged: BatchChanges | undefined): Promise<Pair<K, V>[]> {
    const strategy = this.#strategy;
    const table = this.#table;
    const live = this.#live;
    const late: Pair<K, V>[] = [];
    if (!strategy.lateNeedsState) {
      // One pass over the records in arrival order, with no shuffle: lateness needs no state, and
      // each key's accumulators see its records in the same order as grouped by key.
      const withTimes = this.#settings.eventTime === undefined;
      // Carried times under 'fail' need no check here: the table's add finds a key that is not one.
      const checked = !withTimes || this.#policy.onError !== 'fail';
      forEachInputRecord(input, chain, withTimes, bc.recordErrors, this.describe, (record, carried) => {
        const pair = record as Pair<K, V>;
        const t = checked ? this.#timeOf(pair, pair[1], withTimes ? carried : undefined, bc) : carried;
        if (t === undefined) return;
        if (!strategy.addIfOpen(table, pair[0], t, pair[1], closedUpTo, live, onChanged)) late.push(pair);
      });
      return late;
    }
    const pairs = input as Batch<Pair<K, V>>;
    // With carried times, each value goes through the shuffle with its time (checked before it).
    const timed = this.#settings.eventTime === undefined;
    const entries: Batch<Pair<K, unknown>> = timed ? this.#withTimes(pairs, bc) : pairs;
    const grouped = await combineByKeyBatch<K, unknown, unknown[]>(bc, entries, this.#settings.numPartitions ?? bc.defaultParallelism, groupValues<unknown>(), this.#policy);
    let times = new Float64Array(16);
    let isLate = new Uint8Array(16);
    await bc.executor.run(
      grouped.partitions.map((partition) => () => {
        for (const [key, group] of partition) {
          const n = group.length;
          if (times.length < n) {
            times = new Float64Array(2 * n);
            isLate = new Uint8Array(2 * n);
          }
          const values = timed ? group.map((entry) => (entry as Timed<V>)[0]) : (group as V[]);
          // A record set aside by the error policy is marked 2 and left out.
          for (let i = 0; i < n; i++) {
            times[i] = timed ? (group[i] as Timed<V>)[1] : (this.#timeOf([key, values[i] as V], values[i] as V, undefined, bc) ?? Number.NaN);
          }
          // A record is late when it meets no open session, those of the batch's other records
          // included: first judged on the state the batch found, then, as long as one joins, the
          // rest again on the sessions the batch's records made. The records that end up late do
          // not depend on the records' order (joining only grows the sessions).
          let joined = 0;
          for (let i = 0; i < n; i++) isLate[i] = Number.isNaN(times[i]) ? 2 : strategy.isLate(table, key, times[i] as number, closedUpTo) ? 1 : 0;
          for (let i = 0; i < n; i++) {
            if (isLate[i] !== 0) continue;
            strategy.add(table, key, times[i] as number, values[i], closedUpTo, live, onChanged);
            joined++;
          }
          for (let again = joined > 0 && joined < n; again; ) {
            again = false;
            for (let i = 0; i < n; i++) {
              if (isLate[i] !== 1 || strategy.isLate(table, key, times[i] as number, closedUpTo)) continue;
              strategy.add(table, key, times[i] as number, values[i], closedUpTo, live, onChanged);
              isLate[i] = 0;
              again = true;
            }
          }
          for (let i = 0; i < n; i++) if (isLate[i] === 1) late.push([key, values[i] as V]);
        }
      }),
    );
    return late;
  }

  /** The times the records of partition `p` carry, when this operator uses them (no `eventTime` option). */
  #carriedTimes(input: Batch<Pair<K, V>>, p: number): Float64Array | undefined {
    if (this.#settings.eventTime !== undefined) return undefined;
    const times = input.eventTimes?.[p];
    // The construction-time check (`eventTimeBreak`) makes this unreachable; without it, a batch
    // that should carry times but does not would read as records the eventTime option must time.
    if (times === undefined && (input.partitions[p]?.length ?? 0) > 0) throw new Error(`${this.describe}: the input batch carries no event times (a bug in the operator upstream).`);
    return times;
  }

  /** The batch's pairs as `[key, [value, time]]` by their carried times, without those the error policy set aside. */
  #withTimes(input: Batch<Pair<K, V>>, bc: BatchContext): Batch<Pair<K, Timed<V>>> {
    return new Batch(
      input.partitions.map((partition, p) => {
        const carried = this.#carriedTimes(input, p);
        const out: Pair<K, Timed<V>>[] = [];
        for (let i = 0; i < partition.length; i++) {
          const record = partition[i] as Pair<K, V>;
          const t = this.#timeOf(record, record[1], carried?.[i], bc);
          if (t !== undefined) out.push([record[0], [record[1], t]]);
        }
        return out;
      }),
    );
  }

  /**
   * The event time of `record` (`carried`, or else read by the `eventTime` option), or `undefined`
   * when the error policy set it aside: its extractor threw or gave no finite number, or (checked
   * under 'skip' and 'deadLetter' only: 'fail' finds it when the table adds the key) its key is
   * not a key. Nothing of the table has changed yet.
   */
  #timeOf(record: Pair<K, V>, value: V, carried: number | undefined, bc: BatchContext): number | undefined {
    try {
      const t = carried ?? checkedTime((this.#settings.eventTime as (value: V) => number)(value));
      if (this.#policy.onError !== 'fail') hashKey(record[0]);
      return t;
    } catch (error) {
      this.#policy.reject(bc.recordErrors, record, error);
      return undefined;
    }
  }

  #emit(windows: readonly KeyedWindow[], out: WindowOutput<K, R>[]): void {
    for (const { key, window } of windows) this.#push(key, window, out);
  }

  /** Every live window's result (complete mode), in the defined order. */
  #emitAll(out: WindowOutput<K, R>[]): void {
    const { slotWindow } = this.#strategy;
    if (slotWindow === undefined) {
      this.#emit(this.#live.all(), out);
      return;
    }
    for (const slot of this.#slotsInOrder(() => true)) this.#pushAll(slotWindow(slot), this.#table.entriesOf(slot) as WindowEntries, out);
  }

  #push(key: Key, window: TimeWindow, out: WindowOutput<K, R>[]): void {
    const acc = this.#strategy.accumulatorOf(this.#table, key, window);
    if (acc === undefined) return;
    out.push({ key: key as K, window, value: this.#aggregator.result(acc) });
  }
}

/** A value with the event time it carried, through the shuffle of session windows. */
type Timed<V> = readonly [value: V, time: number];



/**
 * Aggregates a keyed stream in event-time windows (Flink's `window(...).aggregate(...)`, Spark's
 * `groupBy(window(...))`): each record `[key, value]` is added, by its event time, to its
 * windows from `assigner` (`tumbling`, `sliding`, `session`, `calendar`) with `aggregator`
 * (`agg.count()`, `agg.sum()`, `agg.min()`, `agg.max()`, `agg.mean()`, `agg.collect()` or your own). Windows close when
 * the watermark (from `withWatermark` upstream) reaches their end plus the allowed lateness (session
 * windows: passes it, as a record at a session's end still joins it); their state is then
 * evicted, so state stays bounded (not in complete mode, which keeps every window).
 *
 * Within a batch: windows closed by the batch's watermark are emitted (append mode; in
 * onTimeAndLate mode those that had not fired) and evicted first, then the batch's records are
 * added (a record whose windows have all closed is late), then update, onTimeAndLate or complete
 * mode emits. Results come as `{ key, window: { start, end }, value }`. Complete mode evicts
 * nothing and has no late records: its state grows with the number of windows.
 *
 * Session windows in `'update'` and `'onTimeAndLate'` mode also emit `{ key, window, retracted:
 * true }` for each emitted session that a record merged into another or extended, before the
 * batch's results; the stream's type then includes {@link WindowRetraction} (when `outputMode`
 * is not a literal type, or the assigner not known to be a session or not, too).
 *
 * **Memory.** One accumulator per key and open window (per key and pane for sliding windows; a
 * key's open sessions for session windows), held in memory on every backend, from the window's
 * first record until the watermark passes its end plus the allowed lateness (in complete mode,
 * for ever). A watermark that stops advancing (a source gone idle) keeps windows open; late
 * records are not held.
 *
 * Each record is windowed by the event time it carries from `withWatermark` (through `map`,
 * `filter`, `flatMap`, `mapToPair`, `keyBy`, `mapValues`, `flatMapValues` and `union`), or by the
 * `eventTime` option's function of its value when given.
 *
 * @throws TypeError at once when no `withWatermark` is upstream, or when an operator between it
 * and this one cannot carry the records' event time (a shuffle, a join, `mapPartitions`,
 * `transform`, a window) and no `eventTime` option is given, or when the aggregator declares a
 * `version` above 1 without a `migrate` function (RangeError for a version that is not a positive
 * integer), for a bad `onError`, or in complete mode for `allowedLateness` or `late:
 * 'sideOutput'` (which have nothing to act on there); SluiceError `USER_FUNCTION_FAILED` (failing the batch) when an
 * event time is not a finite number or a key not a key (under `onError: 'fail'`, the default) or
 * an aggregator throws; `STATE_MIGRATION_FAILED` when `migrate` fails;
 * `STATE_IO_FAILED` or `STATE_CORRUPT` naming the operator when its state store cannot read,
 * write or decode the window state.
 * @example
 * clicks.pipe(
 *   withWatermark((c) => c.time, '10s'),
 *   keyBy((c) => c.page),
 *   eventTimeWindow(tumbling('1m'), agg.count(), { outputMode: 'append', late: 'sideOutput' }),
 * )
 */
export function eventTimeWindow<K extends Key, V, A, R>(
  assigner: SessionWindows,
  aggregator: Aggregator<NoInfer<V>, A, R>,
  options: EventTimeWindowOptions<NoInfer<V>> & { readonly outputMode: RetractingOutputMode },
): (stream: DStream<Pair<K, V>>) => EventTimeWindowDStream<K, V, R, WindowOutput<K, R>>;
export function eventTimeWindow<K extends Key, V, A, R>(
  assigner: WindowAssigner,
  aggregator: Aggregator<NoInfer<V>, A, R>,
  options?: EventTimeWindowOptions<NoInfer<V>> & { readonly outputMode?: Exclude<OutputMode, RetractingOutputMode> },
): (stream: DStream<Pair<K, V>>) => EventTimeWindowDStream<K, V, R>;
export function eventTimeWindow<K extends Key, V, A, R>(
  assigner: Exclude<WindowAssigner, SessionWindows>,
  aggregator: Aggregator<NoInfer<V>, A, R>,
  options?: EventTimeWindowOptions<NoInfer<V>>,
): (stream: DStream<Pair<K, V>>) => EventTimeWindowDStream<K, V, R>;
export function eventTimeWindow<K extends Key, V, A, R>(
  assigner: WindowAssigner,
  aggregator: Aggregator<NoInfer<V>, A, R>,
  options?: EventTimeWindowOptions<NoInfer<V>>,
): (stream: DStream<Pair<K, V>>) => EventTimeWindowDStream<K, V, R, WindowOutput<K, R>>;
export function eventTimeWindow<K extends Key, V, A, R>(
  assigner: WindowAssigner,
  aggregator: Aggregator<NoInfer<V>, A, R>,
  options: EventTimeWindowOptions<NoInfer<V>> = {},
): (stream: DStream<Pair<K, V>>) => EventTimeWindowDStream<K, V, R, WindowOutput<K, R>> {
  const outputMode = options.outputMode ?? 'append';
  if (!OUTPUT_MODES.includes(outputMode)) throw new TypeError(`eventTimeWindow: outputMode must be 'append', 'update', 'onTimeAndLate' or 'complete', got ${outputMode}.`);
  const late = options.late ?? 'drop';
  if (late !== 'drop' && late !== 'sideOutput') throw new TypeError(`eventTimeWindow: late must be 'drop' or 'sideOutput', got ${String(late)}.`);
  const lateness = parseDuration(options.allowedLateness ?? 0, 'eventTimeWindow allowedLateness');
  if (outputMode === 'complete' && (lateness !== 0 || late !== 'drop')) {
    throw new TypeError(
      `eventTimeWindow: in outputMode 'complete' no window closes and no record is late, so ${lateness !== 0 ? 'allowedLateness' : "late: 'sideOutput'"} has no effect; remove it, or use outputMode 'update', 'onTimeAndLate' or 'append'.`,
    );
  }
  const versioning = checkVersioning('eventTimeWindow aggregator', aggregator.version, aggregator.migrate);
  const { numPartitions } = options;
  if (numPartitions !== undefined && !(Number.isInteger(numPartitions) && numPartitions >= 1)) {
    throw new RangeError(`eventTimeWindow: numPartitions must be a positive integer, got ${numPartitions}.`);
  }
  const defined = definition('eventTimeWindow', options);
  return (stream) => {
    if (watermarkedStreams(stream).length === 0) {
      throw new TypeError('eventTimeWindow: no watermark upstream; apply withWatermark((record) => eventTime, delay) to the stream first.');
    }
    const { eventTime } = options;
    const broken = eventTime === undefined ? eventTimeBreak(stream) : undefined;
    if (broken !== undefined) {
      throw new TypeError(
        `eventTimeWindow: the records of ${broken.describe} do not carry the event time withWatermark gave them (only per-record operators such as map, filter, flatMap, mapToPair, keyBy, mapValues, flatMapValues, and union carry it); pass the eventTime option to read each value's time, or apply withWatermark after ${broken.describe}.`,
      );
    }
    const windows = new EventTimeWindowDStream<K, V, R, WindowOutput<K, R>>(stream, assigner, aggregator as Aggregator<V, unknown, R>, { eventTime, outputMode, late, lateness, numPartitions }, { name: options.name, stateBackend: options.stateBackend, versioning, defined });
    keepLastResults(windows, 'keyedWindows');
    return windows;
  };
}

const OUTPUT_MODES: readonly OutputMode[] = ['append', 'update', 'onTimeAndLate', 'complete'];

function bigints(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? `${value}n` : value;
}
