import type { DurationLike } from 'sluice';
import { windowStartFor, type TimeWindow } from './time-window.js';
import { checkEventTime, parseWindowDuration, parseWindowOffset } from './window-duration.js';

/** Fixed-size, non-overlapping windows `[offset + k * size, offset + (k + 1) * size)`. */
export interface TumblingWindows {
  readonly kind: 'tumbling';
  /** The window length, in whole milliseconds. */
  readonly size: number;
  /** Where windows start, relative to the epoch: `0 <= offset < size`. */
  readonly offset: number;
  /**
   * The one window that contains `t`: `[t - ((t - offset) mod size), + size)`, with a
   * non-negative modulo so times before the epoch work too.
   *
   * @throws RangeError when `t` is not a finite number.
   */
  windowOf(t: number): TimeWindow;
}

/**
 * Tumbling windows of `size`, shifted by `offset` (Spark's `window(col, size, size, startTime)`,
 * Flink's `TumblingEventTimeWindows.of(size, offset)`).
 *
 * @param size - the window length: a positive whole number of milliseconds or a duration such as `'5m'`.
 * @param offset - shifts every window start; `0 <= offset < size`, 0 by default. An hourly
 *   window with offset `'15m'` runs from :15 to :15.
 * @throws RangeError quoting the input when `size` is not a positive whole duration or `offset`
 *   is not in `[0, size)`.
 * @example tumbling('1m').windowOf(90_000) // { start: 60_000, end: 120_000 }
 */
export function tumbling(size: DurationLike, offset?: DurationLike): TumblingWindows {
  const sizeMs = parseWindowDuration(size, 'tumbling window size');
  const offsetMs = parseWindowOffset(offset, 'tumbling window offset', sizeMs, 'window size');
  return {
    kind: 'tumbling',
    size: sizeMs,
    offset: offsetMs,
    windowOf(t: number): TimeWindow {
      checkEventTime(t, 'tumbling window');
      const start = windowStartFor(t, offsetMs, sizeMs);
      return { start, end: start + sizeMs };
    },
  };
}
