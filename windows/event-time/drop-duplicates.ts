import { Batch, type DStream, type DurationLike, type Key, type OnError } from 'sluice';
import { CARRIES_EVENT_TIME, eventTimeBreak } from '../../core/internal.js';
import { decodeKey, definition, encodeKey, ErrorPolicy, parseDuration, parsePositiveDuration, StatefulDStream, type BatchContext, type Definition, type StateBackend, type StateStore } from 'sluice/extend';
import { checkedTime } from './checked-time.js';
import { PendingBatch } from './pending-batch.js';
import { KEY_NS, keyRow, WATERMARK_ROW } from './dedup-rows.js';
import { DedupTable } from './dedup-table.js';
import { LateRecordsDStream } from './late-records.js';
import type { LatePolicy } from './window-options.js';
import { watermarkedStreams } from './with-watermark.js';

/** Options of {@link dropDuplicates}. */
export interface DropDuplicatesOptions<T> {
  /**
   * How long a key is remembered after its first record: in event time, until the watermark
   * passes the first record's event time plus `within` (plus `allowedLateness`); in processing
   * time, until the batch time passes the first record's batch time plus `within`. Required, as
   * it is what keeps the state bounded.
   */
  readonly within: DurationLike;
  /**
   * `'event'` (the default when a `withWatermark` is upstream): remember by event time, forget by
   * the watermark. `'processing'` (the default without one): remember by batch time.
   */
  readonly timeDomain?: 'event' | 'processing';
  /**
   * A record's event time in ms. Default: the time `withWatermark` gave it, carried by per-record
   * operators. Required after an operator that cannot carry it (a shuffle, a join, a window).
   */
  readonly eventTime?: (record: T) => number;
  /**
   * Event time only: records too old to be told from a forgotten key's duplicates (event time
   * plus `within` plus `allowedLateness` before the watermark): `'drop'` (default; counted as
   * late) or `'sideOutput'` (see `lateRecords()`).
   */
  readonly late?: LatePolicy;
  /** Event time only: how much longer than `within` a key is remembered, and records accepted (default 0). */
  readonly allowedLateness?: DurationLike;
  /** The operator's stable name: its state is stored under it (default `dropDuplicates#position`). */
  readonly name?: string;
  /**
   * What to do with a record whose `keyOf` throws or gives no key, or whose event time is not a
   * finite number (default: the context's `onError`, `'fail'` unless set).
   */
  readonly onError?: OnError;
  /** Keeps the operator's state on this backend rather than the context's default one (not with a checkpoint). */
  readonly stateBackend?: StateBackend;
}

/** The checked settings of a {@link DropDuplicatesDStream}. */
interface Settings<T> {
  readonly keyOf: (record: T) => Key;
  readonly within: number;
  readonly event: boolean;
  readonly eventTime: ((record: T) => number) | undefined;
  readonly late: LatePolicy;
  readonly lateness: number;
}

/** The stream {@link dropDuplicates} returns; `lateRecords()` is its side output. */
export class DropDuplicatesDStream<T> extends StatefulDStream<T> {
  /** Its records carry their input's event times (see the core's `eventTimeBreak`). */
  readonly [CARRIES_EVENT_TIME] = true;
  readonly #parent: DStream<T>;
  readonly #settings: Settings<T>;
  readonly #watermarkIds: readonly number[];
  readonly #policy: ErrorPolicy;
  readonly #table: DedupTable;
  /** Whether the table was loaded from the store once. */
  #loaded = false;
  readonly #pending: PendingBatch;
  #late: { batchId: number; records: T[] } | undefined;
  #lateStream: DStream<T> | undefined;

  constructor(parent: DStream<T>, settings: Settings<T>, options: { readonly name: string | undefined; readonly stateBackend: StateBackend | undefined; readonly defined: Definition }) {
    super({
      kind: 'dropDuplicates',
      graph: parent.graph,
      parents: [parent],
      name: options.name,
      stateBackend: options.stateBackend,
      // What the stored times mean: a restart in the other time domain would misread them.
      state: { config: { timeDomain: settings.event ? 'event' : 'processing' } },
    });
    this.#parent = parent;
    this.#settings = settings;
    this.#watermarkIds = watermarkedStreams(parent as DStream<unknown>).map((w) => w.id);
    this.#policy = new ErrorPolicy(this, options.defined);
    // Buckets of an eighth of `within`: forgetting visits about ten of them per batch.
    this.#table = new DedupTable(Math.ceil(settings.within / 8));
    this.#pending = new PendingBatch(this, this.#table);
  }

  override stateOf(entry: unknown): unknown {
    return entry;
  }

  /**
   * The records too old to be deduplicated, one batch per batch (the side output of `late:
   * 'sideOutput'`).
   *
   * @throws TypeError when the late policy is not `'sideOutput'`.
   */
  lateRecords(): DStream<T> {
    if (this.#settings.late !== 'sideOutput') throw new TypeError(`${this.describe}: lateRecords() needs the option late: 'sideOutput' (the policy is '${this.#settings.late}').`);
    this.#lateStream ??= new LateRecordsDStream(this, (batchId) => (this.#late?.batchId === batchId ? this.#late.records : []));
    return this.#lateStream;
  }

  protected override async compute(bc: BatchContext): Promise<Batch<T>> {
    const input = (await this.#parent.getOrCompute(bc)) ?? Batch.empty<T>();
    const store = this.store;
    const durable = store.inMemory !== true;
    const table = this.#table;
    // From here the table holds the batch's changes: kept when it commits, undone when not.
    this.#pending.open(bc.batchId);
    await this.#load(store);
    const bound = await this.#bound(store, bc);
    if (bound !== Number.NEGATIVE_INFINITY) table.forget(bound, durable ? (key) => { store.delete(keyRow(encodeKey(key))); } : undefined);
    const { keyOf, within, event, eventTime } = this.#settings;
    const policy = this.#policy;
    const partitions: T[][] = [];
    const times: Float64Array[] | undefined = input.eventTimes === undefined ? undefined : [];
    const late: T[] = [];
    let duplicates = 0;
    input.partitions.forEach((partition, p) => {
      const carried = input.eventTimes?.[p];
      const out: T[] = [];
      const outTimes = carried === undefined ? undefined : new Float64Array(partition.length);
      for (let i = 0; i < partition.length; i++) {
        const record = partition[i] as T;
        let key: Key;
        let t: number;
        try {
          key = keyOf(record);
          t = !event ? bc.batchTime : eventTime === undefined ? ((carried as Float64Array)[i] as number) : checkedTime(eventTime(record));
          if (table.has(key)) {
            duplicates++;
            continue;
          }
          if (event && t + within < bound) {
            late.push(record);
            continue;
          }
          table.add(key, t + within);
        } catch (error) {
          policy.reject(bc.recordErrors, record, error);
          continue;
        }
        if (durable) store.put(keyRow(encodeKey(key)), t + within);
        if (outTimes !== undefined) outTimes[out.length] = carried?.[i] as number;
        out.push(record);
      }
      partitions.push(out);
      times?.push((outTimes as Float64Array).subarray(0, out.length));
    });
    this.#late = { batchId: bc.batchId, records: late };
    this.reportState(bc, { lateRecordsDropped: this.#settings.late === 'drop' ? late.length : 0, duplicatesDropped: duplicates, stateRows: table.size });
    return new Batch(partitions, times);
  }

  /** Fills the table from a durable store's rows at the first batch. */
  async #load(store: StateStore): Promise<void> {
    if (this.#loaded) return;
    const table = this.#table;
    table.clear();
    if (store.inMemory !== true) {
      for await (const [row, until] of store.scan({ prefix: KEY_NS })) table.add(decodeKey(row.slice(KEY_NS.length)), until as number);
    }
    table.settle();
    this.#loaded = true;
  }

  /**
   * The batch's bound: keys remembered until before it are forgotten, and (event time) records
   * whose time plus `within` is before it are late. Event time: the watermark less the allowed
   * lateness (`-Infinity` before the first watermark); processing time: the batch time.
   */
  async #bound(store: StateStore, bc: BatchContext): Promise<number> {
    if (!this.#settings.event) return bc.batchTime;
    await store.load([WATERMARK_ROW]);
    const last = store.get(WATERMARK_ROW) as number | undefined;
    const planned = bc.watermarkOf(this.#watermarkIds);
    // Never below the watermark it used before (a replay or a restart plans the same).
    const watermark = planned === undefined ? last : Math.max(last ?? planned, planned);
    if (watermark === undefined) return Number.NEGATIVE_INFINITY;
    if (watermark !== last) store.put(WATERMARK_ROW, watermark);
    return watermark - this.#settings.lateness;
  }
}


/**
 * Drops the records whose key was seen before (Structured Streaming's `dropDuplicates` and
 * `dropDuplicatesWithinWatermark`, Flink's deduplication keeping the first row): the first record
 * of each key passes, later ones with the same key are dropped while the key is remembered, and
 * counted in the progress event (`duplicatesDropped` of the operator).
 *
 * - **Event time** (a `withWatermark` upstream): a key is remembered until the watermark passes
 *   its first record's event time plus `within` (plus `allowedLateness`). A record whose own
 *   event time plus `within` is already behind that bound is late: a copy of it may have been
 *   forgotten, so it can no longer be told apart; it is dropped and counted (or sent to
 *   `lateRecords()` with `late: 'sideOutput'`). The records kept carry their event times on, so
 *   event-time windows can follow.
 * - **Processing time** (no watermark, or `timeDomain: 'processing'`): a key is remembered until
 *   the batch time passes its first record's batch time plus `within`. Nothing is late.
 *
 * Within a batch the records are taken in order (partition by partition), so the first of a
 * batch's copies is the one kept; the output keeps the input's partitions and order. State: one
 * entry per remembered key, plus one index row, in the state store (on disk with LevelDB);
 * bounded by the keys of `within` of time.
 *
 * @param keyOf - the record's deduplication key: an id, or a tuple `[source, id]`.
 * @throws TypeError at once without `within`, for options that need event time without it, or when
 * the records do not carry their event time and no `eventTime` is given; SluiceError
 * `USER_FUNCTION_FAILED` (failing the batch under `onError: 'fail'`) when `keyOf` or `eventTime`
 * throws or gives no key or time; `STATE_IO_FAILED` or `STATE_CORRUPT` naming the operator when
 * its store cannot read or write.
 * @example
 * payments.pipe(
 *   withWatermark((p) => p.time, '30s'),
 *   dropDuplicates((p) => p.transactionId, { within: '10m' }),
 * )
 */
export function dropDuplicates<T>(keyOf: (record: T) => Key, options: DropDuplicatesOptions<NoInfer<T>>): (stream: DStream<T>) => DropDuplicatesDStream<T> {
  if (typeof keyOf !== 'function') throw new TypeError('dropDuplicates: pass the key function (record) => key first.');
  if (typeof options !== 'object' || options === null || options.within === undefined) {
    throw new TypeError("dropDuplicates: give { within }, how long a key is remembered (such as '10m'); it is what keeps the operator's state bounded.");
  }
  const within = parsePositiveDuration(options.within, 'dropDuplicates within');
  const { timeDomain, eventTime } = options;
  if (timeDomain !== undefined && timeDomain !== 'event' && timeDomain !== 'processing') throw new TypeError(`dropDuplicates: timeDomain must be 'event' or 'processing', got ${String(timeDomain)}.`);
  const late = options.late ?? 'drop';
  if (late !== 'drop' && late !== 'sideOutput') throw new TypeError(`dropDuplicates: late must be 'drop' or 'sideOutput', got ${String(late)}.`);
  const lateness = parseDuration(options.allowedLateness ?? 0, 'dropDuplicates allowedLateness');
  const defined = definition('dropDuplicates', options);
  return (stream) => {
    const watermarked = watermarkedStreams(stream).length > 0;
    const event = timeDomain === undefined ? watermarked : timeDomain === 'event';
    if (event && !watermarked) throw new TypeError("dropDuplicates: timeDomain 'event' needs a watermark upstream; apply withWatermark((record) => eventTime, delay) first.");
    if (!event && (options.late !== undefined || options.allowedLateness !== undefined || eventTime !== undefined)) {
      throw new TypeError('dropDuplicates: late, allowedLateness and eventTime act in event time only; remove them, or add withWatermark upstream.');
    }
    const broken = event && eventTime === undefined ? eventTimeBreak(stream) : undefined;
    if (broken !== undefined) {
      throw new TypeError(`dropDuplicates: the records of ${broken.describe} do not carry the event time withWatermark gave them; pass the eventTime option to read each record's time, or apply withWatermark after ${broken.describe}.`);
    }
    return new DropDuplicatesDStream(stream, { keyOf, within, event, eventTime, late, lateness }, { name: options.name, stateBackend: options.stateBackend, defined });
  };
}
