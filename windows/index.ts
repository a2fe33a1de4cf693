/**
 * `sluice/windows`: windows over streams.
 *
 * - Batch time (Spark Streaming's `window`, `reduceByWindow`, `countByWindow`,
 *   `reduceByKeyAndWindow`, `countByValueAndWindow`, `groupByKeyAndWindow`): the window at batch
 *   time `t` covers the input's batches in `(t - length, t]` and is produced every `slide`.
 * - Event time (`withWatermark`, `eventTimeWindow` with `tumbling`, `sliding`, `session` and
 *   `calendar` windows, the aggregators of `agg`): windows by the records' own times, closed by
 *   the watermark.
 */
export { countByValueAndWindow } from './batch-time/count-by-value-and-window.js';
export { countByWindow } from './batch-time/count-by-window.js';
export { groupByKeyAndWindow } from './batch-time/group-by-key-and-window.js';
export { reduceByKeyAndWindow, type ReduceByKeyAndWindowOptions } from './batch-time/reduce-by-key-and-window.js';
export { reduceByWindow } from './batch-time/reduce-by-window.js';
export { window } from './batch-time/window.js';
export type { KeyedWindowOptions, WindowStateOptions } from './batch-time/windowed-dstream.js';
export type { Aggregator } from './event-time/aggregator.js';
export { agg } from './event-time/aggregators.js';
export { dropDuplicates, DropDuplicatesDStream, type DropDuplicatesOptions } from './event-time/drop-duplicates.js';
export { eventTimeWindow, EventTimeWindowDStream } from './event-time/event-time-window.js';
export type { TimeWindow } from './event-time/time-window.js';
export {
  calendar,
  session,
  sliding,
  tumbling,
  type CalendarUnit,
  type CalendarWindows,
  type SessionWindows,
  type SlidingWindows,
  type TumblingWindows,
  type WindowAssigner,
} from './event-time/window-assigner.js';
export { isRetraction, type EventTimeWindowOptions, type LatePolicy, type OutputMode, type RetractingOutputMode, type WindowOutput, type WindowResult, type WindowRetraction } from './event-time/window-options.js';
export { withWatermark, type WatermarkedDStream, type WatermarkOptions } from './event-time/with-watermark.js';
