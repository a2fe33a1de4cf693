/**
 * `sluice/windows`: windows over streams.
 *
 * - Batch time (Spark Streaming's `window`, `reduceByWindow`, `countByWindow`,
 *   `reduceByKeyAndWindow`, `countByValueAndWindow`, `groupByKeyAndWindow`): the window at batch
 *   time `t` covers the input's batches in `(t - length, t]` and is produced every `slide`.
 * - Event time (`withWatermark`, `eventTimeWindow` with tumbling, sliding, session and calendar
 *   windows): see `./event-time/index.ts`.
 */
export { countByValueAndWindow } from './batch-time/count-by-value-and-window.js';
export { countByWindow } from './batch-time/count-by-window.js';
export { groupByKeyAndWindow } from './batch-time/group-by-key-and-window.js';
export { reduceByKeyAndWindow, type ReduceByKeyAndWindowOptions } from './batch-time/reduce-by-key-and-window.js';
export { reduceByWindow } from './batch-time/reduce-by-window.js';
export { window } from './batch-time/window.js';
export * from './event-time/index.js';
