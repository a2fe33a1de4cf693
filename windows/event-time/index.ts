export type { Aggregator } from './aggregator.js';
export { collect, count, max, mean, min, sum } from './aggregators.js';
export {
  eventTimeWindow,
  EventTimeWindowDStream,
  type EventTimeWindowOptions,
  type LatePolicy,
  type OutputMode,
  type WindowResult,
} from './event-time-window.js';
export { combinePanes, slidePanes } from './pane-combine.js';
export { addToSessions, type Session, type SessionUpdate } from './session-merge.js';
export { compareWindows, windowContains, windowStartFor, type TimeWindow } from './time-window.js';
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
} from './window-assigner.js';
export { watermarkedAncestors, WatermarkedDStream, withWatermark, type WatermarkOptions } from './with-watermark.js';
