import type { DurationLike, Key, OnError } from 'sluice';
import type { StateBackend } from 'sluice/extend';
import type { TimeWindow } from './time-window.js';

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
   * `'append'` (default): each window once, when the watermark passes its end plus the allowed
   * lateness. `'update'`: the windows whose result changed in the batch. `'complete'`: every live
   * window, every batch.
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
