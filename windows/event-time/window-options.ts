import type { DurationLike, Key, OnError } from 'sluice';
import type { StateBackend } from 'sluice/extend';
import type { TimeWindow } from './time-window.js';

/**
 * Which window results a batch emits (docs/watermarks-and-late-data.md, "Output modes"):
 * `'append'` each window once, final; `'update'` every change; `'onTimeAndLate'` once when the
 * watermark passes the window's end, then again for each batch whose late records changed it;
 * `'complete'` the whole result table, every batch.
 */
export type OutputMode = 'append' | 'update' | 'onTimeAndLate' | 'complete';

/** The output modes in which session windows also emit {@link WindowRetraction}s. */
export type RetractingOutputMode = 'update' | 'onTimeAndLate';

/** What happens to a record whose windows have all closed. */
export type LatePolicy = 'drop' | 'sideOutput';

/** One window's result for one key. */
export interface WindowResult<K extends Key, R> {
  readonly key: K;
  /** The window, `[start, end)` in ms. */
  readonly window: TimeWindow;
  readonly value: R;
}

/**
 * A tombstone: the result of `window` for `key`, emitted before, no longer holds, because a
 * record merged that session into a larger one or extended it (Kafka Streams forwards the same
 * for a removed session). Only session windows in `'update'` and `'onTimeAndLate'` mode emit
 * them, in the batch that removed the session, before that batch's results: delete the row of
 * `(key, window)`. A session that was never emitted is not retracted.
 */
export interface WindowRetraction<K extends Key> {
  readonly key: K;
  /** The session window, `[start, end)` in ms, whose result is gone. */
  readonly window: TimeWindow;
  readonly retracted: true;
}

/**
 * What session windows emit in `'update'` and `'onTimeAndLate'` mode: results and retractions.
 * Tell them apart with `'retracted' in r` (or {@link isRetraction}).
 */
export type WindowOutput<K extends Key, R> = WindowResult<K, R> | WindowRetraction<K>;

/**
 * Whether `r` is a {@link WindowRetraction} (narrows the type).
 *
 * @example if (isRetraction(r)) table.delete(id(r)); else table.set(id(r), r.value);
 */
export function isRetraction<K extends Key, R>(r: WindowOutput<K, R>): r is WindowRetraction<K> {
  return 'retracted' in r;
}

/** Options of `eventTimeWindow`. */
export interface EventTimeWindowOptions<V> {
  /**
   * A value's event time in ms, read from the value. Default: the event time `withWatermark` gave
   * the record, which per-record operators (`map`, `filter`, `flatMap`, `mapToPair`, `keyBy`,
   * `mapValues`, `flatMapValues`) and `union` carry along. Required after an operator that cannot
   * carry it (a shuffle such as `reduceByKey`, a join, `mapPartitions`, `transform`, a window):
   * without it the operator throws a TypeError at construction.
   */
  readonly eventTime?: (value: V) => number;
  /**
   * `'append'` (default): each window once, final, when the watermark passes its end plus the
   * allowed lateness. `'update'`: the windows whose result changed in the batch.
   * `'onTimeAndLate'`: a window once when the watermark passes its end (on time), then again in
   * each batch whose late records (within `allowedLateness`) changed it; nothing after it closes.
   * `'complete'`: the whole result table, every batch: no window is ever evicted and no record is
   * late (the watermark drops no state, as in Spark), so state grows with the number of windows;
   * for an unbounded stream use `'update'`, `'onTimeAndLate'` or `'append'`.
   *
   * Session windows in `'update'` and `'onTimeAndLate'` mode also emit a {@link WindowRetraction}
   * for each emitted session that a later record merged away or extended.
   */
  readonly outputMode?: OutputMode;
  /** Records whose windows have all closed: `'drop'` (default; counted) or `'sideOutput'` (see `lateRecords()`). */
  readonly late?: LatePolicy;
  /** How long past its end a window stays open for late records (default 0). */
  readonly allowedLateness?: DurationLike;
  /**
   * Partitions of the keyed work of session windows (default: the context's default parallelism).
   * Tumbling, sliding and calendar windows add a batch's records in one pass, without a shuffle.
   */
  readonly numPartitions?: number;
  /** The operator's stable name: its state is stored under it (default `eventTimeWindow#position`). */
  readonly name?: string;
  /**
   * What to do with a record whose event time is not a finite number (or whose extractor
   * throws), or whose key is not a key (default: the context's `onError`, `'fail'` unless set):
   * the record is checked before it touches any window. An aggregator that throws always fails
   * the batch: it may have updated some of the record's windows already.
   */
  readonly onError?: OnError;
  /**
   * Keeps the operator's state on this backend rather than on the context's default backend (not
   * with a checkpoint, which keeps every operator's state).
   */
  readonly stateBackend?: StateBackend;
}

/** The options of `eventTimeWindow` once checked, with their defaults. */
export interface Settings<V> {
  /** Reads the time from the value; `undefined`: the time the record carries (`Batch.eventTimes`). */
  readonly eventTime: ((value: V) => number) | undefined;
  readonly outputMode: OutputMode;
  readonly late: LatePolicy;
  readonly lateness: number;
  readonly numPartitions: number | undefined;
}
