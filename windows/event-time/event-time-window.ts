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
import { LiveWindows, type KeyedWindow } from './live-windows.js';
import { GENERATION_ROW, parseRow, WATERMARK_ROW } from './window-rows.js';
import { strategyFor, type OnChanged, type WindowStrategy } from './window-strategy.js';
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

/** The stream {@link eventTimeWindow} returns; `lateRecords()` is its side output. */
export class EventTimeWindowDStream<K extends Key, V, R> extends StatefulDStream<WindowResult<K, R>> {
  readonly #parent: DStream<Pair<K, V>>;
  readonly #aggregator: Aggregator<V, unknown, R>;
  readonly #strategy: WindowStrategy;
  readonly #settings: Settings<V>;
  readonly #watermarkIds: readonly number[];
  readonly #live = new LiveWindows();
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
    const live = this.#live;
    const out: WindowResult<K, R>[] = [];
    try {
      await store.load([WATERMARK_ROW, GENERATION_ROW]);
      const last = store.get(WATERMARK_ROW) as number | undefined;
      if (live.generation === undefined || live.generation !== store.get(GENERATION_ROW)) await this.#rebuild(store, last);
      // Until this batch commits, the live windows reflect no committed state.
      live.generation = undefined;
      const watermark = this.#watermark(store, bc, last);
      const closedUpTo = watermark === undefined ? Number.NEGATIVE_INFINITY : watermark - this.#settings.lateness;
      await this.#close(store, closedUpTo, out);
      const { changed, late } = await this.#add(store, bc, input, closedUpTo);
      this.#late = { batchId: bc.batchId, records: late };
      if (this.#settings.outputMode === 'update') await this.#emit(store, changed, out);
      if (this.#settings.outputMode === 'complete') await this.#emit(store, live.all(), out);
      store.put(GENERATION_ROW, bc.batchId);
      live.generation = bc.batchId;
      this.reportState(bc, { lateRecordsDropped: this.#settings.late === 'drop' ? late.length : 0 });
    } catch (error) {
      throw userFunctionFailed(operator, error);
    }
    return Batch.of(out, bc.defaultParallelism);
  }

  /** Rebuilds the live windows from the store's rows (after a start, or a batch that did not commit). */
  async #rebuild(store: StateStore, lastWatermark: number | undefined): Promise<void> {
    const live = this.#live;
    live.clear();
    const closedUpTo = lastWatermark === undefined ? Number.NEGATIVE_INFINITY : lastWatermark - this.#settings.lateness;
    for await (const [row, value] of store.scan()) this.#strategy.restore(parseRow(row), value, closedUpTo, live);
  }

  /** This operator's watermark: the planned one of its inputs, never below the last it used. */
  #watermark(store: StateStore, bc: BatchContext, last: number | undefined): number | undefined {
    const planned = bc.watermarkOf(this.#watermarkIds);
    const watermark = planned === undefined ? last : Math.max(last ?? planned, planned);
    if (watermark !== undefined && watermark !== last) store.put(WATERMARK_ROW, watermark);
    return watermark;
  }

  /** Emits (in append mode) and evicts every window that ends at or before `closedUpTo` and is final (see `isClosed`). */
  async #close(store: StateStore, closedUpTo: number, out: WindowResult<K, R>[]): Promise<void> {
    if (closedUpTo === Number.NEGATIVE_INFINITY) return;
    const closing = this.#live.endingUpTo(closedUpTo).filter(({ window }) => this.#strategy.isClosed(window, closedUpTo));
    if (closing.length === 0) return;
    const strategy = this.#strategy;
    const append = this.#settings.outputMode === 'append';
    if (strategy.rowsForRun !== undefined && strategy.closeRun !== undefined) {
      // Each key's closing windows together (they come ascending by end), in runs of overlapping windows.
      const runs: { readonly key: StoreKey; readonly run: number[] }[] = [];
      const current = new Map<StoreKey, number[]>();
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
      const windowsOf = (run: readonly number[]): TimeWindow[] => run.map((i) => (closing[i] as KeyedWindow).window);
      const rows = runs.map(({ key, run }) => strategy.rowsForRun?.(key, windowsOf(run)) ?? []);
      await store.load(rows.flat());
      const accs: unknown[] = new Array<unknown>(closing.length);
      runs.forEach(({ run }, r) => {
        strategy.closeRun?.(store, windowsOf(run), rows[r] as StoreKey[], append ? (i, acc) => (accs[run[i] as number] = acc) : undefined);
      });
      closing.forEach(({ key, window }, i) => {
        if (append && accs[i] !== undefined) out.push({ key: decodeKey(key) as K, window, value: this.#aggregator.result(accs[i]) });
        this.#live.remove(key, window);
      });
      return;
    }
    const rows = closing.map(({ key, window }) => strategy.rowsForWindow(key, window));
    await store.load(rows.flat());
    closing.forEach(({ key, window }, i) => {
      const windowRows = rows[i] as StoreKey[];
      if (append) this.#push(store, key, window, windowRows, out);
      strategy.evict(store, windowRows, window);
      this.#live.remove(key, window);
    });
  }

  /** Adds the batch's records to their windows; returns the windows that changed (update mode) and the late records. */
  async #add(store: StateStore, bc: BatchContext, input: Batch<Pair<K, V>>, closedUpTo: number): Promise<{ changed: KeyedWindow[]; late: Pair<K, V>[] }> {
    const { eventTime } = this.#settings;
    const strategy = this.#strategy;
    const live = this.#live;
    const grouped = await combineByKeyBatch<K, V, V[]>(bc, input, this.#settings.numPartitions ?? bc.defaultParallelism, groupValues<V>(), this.describe);
    // The event time of every record, in the order of the groups, and the rows they need.
    let total = 0;
    for (const partition of grouped.partitions) for (const [, values] of partition) total += values.length;
    const times = new Float64Array(total);
    const encodedKeys: StoreKey[] = [];
    const rows: StoreKey[] = new Array<StoreKey>(total);
    let r = 0;
    for (const partition of grouped.partitions) {
      for (const [key, values] of partition) {
        const encoded = encodeKey(key);
        encodedKeys.push(encoded);
        for (let i = 0; i < values.length; i++, r++) {
          const t = checkedTime(eventTime(values[i] as V));
          times[r] = t;
          rows[r] = strategy.rowForRecord(encoded, t);
        }
      }
    }
    await store.load(rows);
    const changed = new Map<string, KeyedWindow>();
    const late: Pair<K, V>[] = [];
    let isLate = new Uint8Array(16);
    let g = 0;
    r = 0;
    await bc.executor.run(
      grouped.partitions.map((partition) => () => {
        for (const [key, values] of partition) {
          const encoded = encodedKeys[g++] as StoreKey;
          const n = values.length;
          const onChanged: OnChanged =
            this.#settings.outputMode === 'update'
              ? (window) => {
                  const id = `${encoded}\u0000${window.start}\u0000${window.end}`;
                  if (!changed.has(id)) changed.set(id, { key: encoded, window });
                }
              : undefined;
          // Lateness is decided on the state the batch found (a session may make a record that
          // joins it not late), before any record is added: it never depends on the records' order.
          if (isLate.length < n) isLate = new Uint8Array(2 * n);
          for (let i = 0; i < n; i++) isLate[i] = strategy.isLate(store, encoded, key, times[r + i] as number, closedUpTo) ? 1 : 0;
          for (let i = 0; i < n; i++) {
            const value = values[i] as V;
            if (isLate[i] === 1) late.push([key, value]);
            else strategy.add(store, rows[r + i] as StoreKey, encoded, key, times[r + i] as number, value, closedUpTo, live, onChanged);
          }
          r += n;
        }
      }),
    );
    return { changed: [...changed.values()], late };
  }

  async #emit(store: StateStore, windows: readonly KeyedWindow[], out: WindowResult<K, R>[]): Promise<void> {
    const rows = windows.map(({ key, window }) => this.#strategy.rowsForWindow(key, window));
    await store.load(rows.flat());
    windows.forEach(({ key, window }, i) => { this.#push(store, key, window, rows[i] as StoreKey[], out); });
  }

  #push(store: StateStore, key: StoreKey, window: TimeWindow, rows: readonly StoreKey[], out: WindowResult<K, R>[]): void {
    const acc = this.#strategy.accumulatorOf(store, rows, window);
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
