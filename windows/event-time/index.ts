export type { Aggregator } from './aggregator.js';
export { collect, count, max, mean, min, sum } from './aggregators.js';
export { eventTimeWindow, EventTimeWindowDStream } from './event-time-window.js';
export type { EventTimeWindowOptions, LatePolicy, OutputMode, WindowResult } from './window-options.js';
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
export { watermarkedStreams, WatermarkedDStream, withWatermark, type WatermarkOptions } from './with-watermark.js';
