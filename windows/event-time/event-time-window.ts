import {
  Batch,
  combineByKeyBatch,
  groupValues,
  DStream,
  parseDuration,
  userFunctionFailed,
  type BatchContext,
  type DurationLike,
  type Key,
  type Pair,
} from 'sluice';
import { decodeKey, encodeKey, StatefulDStream, type StateStore, type StoreKey } from 'sluice/state';
import type { Aggregator } from './aggregator.js';
import type { TimeWindow } from './time-window.js';
import type { WindowAssigner } from './window-assigner.js';
import { allWindows, endingUpTo, parseIndexRow, WATERMARK_ROW } from './window-rows.js';
import { strategyFor, type WindowStrategy } from './window-strategy.js';
import { watermarkedAncestors } from './with-watermark.js';

/** Which window results a batch emits. */
export type OutputMode = 'append' | 'update' | 'complete';

/** What happens to a record whose windows have all closed. */
export type LatePolicy = 'drop' | 'sideOutput';

/** One window's result for one key. */
export interface WindowResult<K extends Key, R> {
  readonly key: K;
  /** The window, `[start, end)` in ms. */
  readonly window: TimeWindow;
  readonly value: R;
}

/** Options of {@link eventTimeWindow}. */
export interface EventTimeWindowOptions<V> {
  /**
   * A value's event time in ms. Default: the event-time function of the nearest `withWatermark`
   * upstream, applied to the value (right when the value is that record, as after `keyBy`).
   */
  readonly eventTime?: (value: V) => number;
  /**
   * `'append'` (default): each window once, when the watermark passes its end plus the allowed
   * lateness. `'update'`: the windows whose result changed in the batch. `'complete'`: every live
   * window, every batch.
   */
  readonly outputMode?: OutputMode;
  /** Records whose windows have all closed: `'drop'` (default; counted) or `'sideOutput'` (see `lateRecords()`). */
  readonly late?: LatePolicy;
  /** How long past its end a window stays open for late records (default 0). */
  readonly allowedLateness?: DurationLike;
  /** Partitions of the keyed work (default: the context's default parallelism). */
  readonly numPartitions?: number;
  /** The operator's stable name. */
  readonly name?: string;
}

interface Settings<V> {
  readonly eventTime: (value: V) => number;
  readonly outputMode: OutputMode;
  readonly late: LatePolicy;
  readonly lateness: number;
  readonly numPartitions: number | undefined;
}

/** A changed or closed window of a key. */
interface KeyedWindow {
  readonly key: StoreKey;
  readonly window: TimeWindow;
}

/** The stream {@link eventTimeWindow} returns; `lateRecords()` is its side output. */
export class EventTimeWindowDStream<K extends Key, V, R> extends StatefulDStream<WindowResult<K, R>> {
  readonly #parent: DStream<Pair<K, V>>;
  readonly #aggregator: Aggregator<V, unknown, R>;
  readonly #strategy: WindowStrategy;
  readonly #settings: Settings<V>;
  readonly #watermarkIds: readonly number[];
  #late: { batchId: number; records: Pair<K, V>[] } | undefined;
  #lateStream: DStream<Pair<K, V>> | undefined;

  constructor(parent: DStream<Pair<K, V>>, assigner: WindowAssigner, aggregator: Aggregator<V, unknown, R>, settings: Settings<V>, name: string | undefined) {
    super({ kind: 'eventTimeWindow', graph: parent.graph, parents: [parent], name });
    this.#parent = parent;
    this.#aggregator = aggregator;
    this.#strategy = strategyFor(assigner, aggregator);
    this.#settings = settings;
    this.#watermarkIds = watermarkedAncestors(parent as DStream<unknown>).map((w) => w.id);
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
    this.#lateStream ??= new LateRecordsDStream(this);
    return this.#lateStream;
  }

  /** @internal The late records of batch `batchId` (after the operator computed it). */
  lateOf(batchId: number): Pair<K, V>[] {
    return this.#late?.batchId === batchId ? this.#late.records : [];
  }

  protected override async compute(bc: BatchContext): Promise<Batch<WindowResult<K, R>>> {
    const input = (await this.#parent.getOrCompute(bc)) ?? Batch.empty<Pair<K, V>>();
    const store = this.storeFor(bc);
    const operator = this.describe;
    const watermark = await this.#watermark(store, bc);
    const closedUpTo = watermark === undefined ? Number.NEGATIVE_INFINITY : watermark - this.#settings.lateness;
    const out: WindowResult<K, R>[] = [];
    try {
      await this.#close(store, closedUpTo, out);
      const { changed, late } = await this.#add(store, bc, input, closedUpTo);
      this.#late = { batchId: bc.batchId, records: late };
      if (this.#settings.outputMode === 'update') await this.#emit(store, changed, out);
      if (this.#settings.outputMode === 'complete') {
        const live: KeyedWindow[] = [];
        for await (const [row] of store.scan(allWindows)) live.push(parseIndexRow(row));
        await this.#emit(store, live, out);
      }
      this.reportState(bc, { lateRecordsDropped: this.#settings.late === 'drop' ? late.length : 0 });
    } catch (error) {
      throw userFunctionFailed(operator, error);
    }
    return Batch.of(out, bc.defaultParallelism);
  }

  /** This operator's watermark: the planned one of its inputs, never below the last it used. */
  async #watermark(store: StateStore, bc: BatchContext): Promise<number | undefined> {
    await store.load([WATERMARK_ROW]);
    const last = store.get(WATERMARK_ROW) as number | undefined;
    const planned = bc.watermarkOf(this.#watermarkIds);
    const watermark = planned === undefined ? last : Math.max(last ?? planned, planned);
    if (watermark !== undefined && watermark !== last) store.put(WATERMARK_ROW, watermark);
    return watermark;
  }

  /** Emits (in append mode) and evicts every window that ends at or before `closedUpTo` and is final (see `isClosed`). */
  async #close(store: StateStore, closedUpTo: number, out: WindowResult<K, R>[]): Promise<void> {
    if (closedUpTo === Number.NEGATIVE_INFINITY) return;
    const closing: KeyedWindow[] = [];
    for await (const [row] of store.scan(endingUpTo(closedUpTo))) {
      const live = parseIndexRow(row);
      if (this.#strategy.isClosed(live.window, closedUpTo)) closing.push(live);
    }
    if (closing.length === 0) return;
    await store.load(closing.flatMap(({ key, window }) => this.#strategy.rowsForWindow(key, window)));
    for (const { key, window } of closing) {
      if (this.#settings.outputMode === 'append') this.#push(store, key, window, out);
      this.#strategy.evict(store, key, window);
    }
  }

  /** Adds the batch's records to their windows; returns the windows that changed and the late records. */
  async #add(store: StateStore, bc: BatchContext, input: Batch<Pair<K, V>>, closedUpTo: number): Promise<{ changed: KeyedWindow[]; late: Pair<K, V>[] }> {
    const { eventTime } = this.#settings;
    const grouped = await combineByKeyBatch<K, V, V[]>(bc, input, this.#settings.numPartitions ?? bc.defaultParallelism, groupValues<V>(), this.describe);
    const work = grouped.partitions.map((partition) =>
      partition.map(([key, values]) => ({ key, encoded: encodeKey(key), values, times: values.map((v) => checkedTime(eventTime(v))) })),
    );
    await store.load(work.flat().flatMap(({ encoded, times }) => times.flatMap((t) => this.#strategy.rowsForRecord(encoded, t))));
    const changed = new Map<string, KeyedWindow>();
    const late: Pair<K, V>[] = [];
    await bc.executor.run(
      work.map((items) => () => {
        for (const { key, encoded, values, times } of items) {
          // Lateness is decided on the state the batch found (a session may make a record that
          // joins it not late), before any record is added: it never depends on the records' order.
          const isLate = times.map((t) => this.#strategy.isLate(store, encoded, key, t, closedUpTo));
          for (let i = 0; i < values.length; i++) {
            const value = values[i] as V;
            const t = times[i] as number;
            if (isLate[i] === true) {
              late.push([key, value]);
              continue;
            }
            this.#strategy.add(store, encoded, key, t, value, closedUpTo, (window) => {
              const id = `${encoded}\u0000${window.start}\u0000${window.end}`;
              if (!changed.has(id)) changed.set(id, { key: encoded, window });
            });
          }
        }
      }),
    );
    return { changed: [...changed.values()], late };
  }

  async #emit(store: StateStore, windows: readonly KeyedWindow[], out: WindowResult<K, R>[]): Promise<void> {
    await store.load(windows.flatMap(({ key, window }) => this.#strategy.rowsForWindow(key, window)));
    for (const { key, window } of windows) this.#push(store, key, window, out);
  }

  #push(store: StateStore, key: StoreKey, window: TimeWindow, out: WindowResult<K, R>[]): void {
    const acc = this.#strategy.accumulatorOf(store, key, window);
    if (acc === undefined) return;
    out.push({ key: decodeKey(key) as K, window, value: this.#aggregator.result(acc) });
  }
}

function checkedTime(t: number): number {
  if (typeof t !== 'number' || !Number.isFinite(t)) throw new TypeError(`the event time of a record must be a finite number of ms, got ${String(t)}.`);
  return t;
}


/** The late records of an event-time window operator, per batch. */
class LateRecordsDStream<K extends Key, V> extends DStream<Pair<K, V>> {
  readonly #owner: EventTimeWindowDStream<K, V, unknown>;

  constructor(owner: EventTimeWindowDStream<K, V, unknown>) {
    super({ kind: 'lateRecords', graph: owner.graph, parents: [owner] });
    this.#owner = owner;
  }

  protected override async compute(bc: BatchContext): Promise<Batch<Pair<K, V>>> {
    await this.#owner.getOrCompute(bc);
    return Batch.of(this.#owner.lateOf(bc.batchId), bc.defaultParallelism);
  }
}

/**
 * Aggregates a keyed stream in event-time windows (Flink's `window(...).aggregate(...)`, Spark's
 * `groupBy(window(...))`): each record `[key, value]` is added, by its event time, to its
 * windows from `assigner` (`tumbling`, `sliding`, `session`, `calendar`) with `aggregator`
 * (`count()`, `sum()`, `min()`, `max()`, `mean()`, `collect()` or your own). Windows close when
 * the watermark (from `withWatermark` upstream) reaches their end plus the allowed lateness (session
 * windows: passes it, as a record at a session's end still joins it); their state is then
 * evicted, so state stays bounded.
 *
 * Within a batch: windows closed by the batch's watermark are emitted (append mode) and evicted
 * first, then the batch's records are added (a record whose windows have all closed is late),
 * then update or complete mode emits. Results come as `{ key, window: { start, end }, value }`.
 *
 * @throws TypeError at once when no `withWatermark` is upstream; SluiceError `USER_FUNCTION_FAILED`
 * (failing the batch) when an event time is not a finite number or an aggregator throws.
 * @example
 * clicks.pipe(
 *   withWatermark((c) => c.time, '10s'),
 *   keyBy((c) => c.page),
 *   eventTimeWindow(tumbling('1m'), count(), { outputMode: 'append', late: 'sideOutput' }),
 * )
 */
export function eventTimeWindow<K extends Key, V, A, R>(
  assigner: WindowAssigner,
  aggregator: Aggregator<NoInfer<V>, A, R>,
  options: EventTimeWindowOptions<NoInfer<V>> = {},
): (stream: DStream<Pair<K, V>>) => EventTimeWindowDStream<K, V, R> {
  const outputMode = options.outputMode ?? 'append';
  if (!['append', 'update', 'complete'].includes(outputMode)) throw new TypeError(`eventTimeWindow: outputMode must be 'append', 'update' or 'complete', got ${outputMode}.`);
  const late = options.late ?? 'drop';
  if (late !== 'drop' && late !== 'sideOutput') throw new TypeError(`eventTimeWindow: late must be 'drop' or 'sideOutput', got ${String(late)}.`);
  const lateness = parseDuration(options.allowedLateness ?? 0, 'eventTimeWindow allowedLateness');
  const { numPartitions } = options;
  if (numPartitions !== undefined && !(Number.isInteger(numPartitions) && numPartitions >= 1)) {
    throw new RangeError(`eventTimeWindow: numPartitions must be a positive integer, got ${numPartitions}.`);
  }
  return (stream) => {
    const nearest = watermarkedAncestors(stream)[0];
    if (nearest === undefined) {
      throw new TypeError('eventTimeWindow: no watermark upstream; apply withWatermark((record) => eventTime, delay) to the stream first.');
    }
    const eventTime = options.eventTime ?? ((value: V) => (nearest).eventTime(value));
    return new EventTimeWindowDStream<K, V, R>(stream, assigner, aggregator as Aggregator<V, unknown, R>, { eventTime, outputMode, late, lateness, numPartitions }, options.name);
  };
}
