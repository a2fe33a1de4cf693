import type { DurationLike } from 'sluice';
import { windowStartFor, type TimeWindow } from './time-window.js';
import { checkEventTime, parseWindowDuration, parseWindowOffset } from './window-duration.js';

/**
 * Overlapping windows `[s, s + size)` for every `s ≡ offset (mod slide)`, cut into panes: the
 * windows `[p, p + pane)` with `pane = gcd(size, slide)` and `p ≡ offset (mod pane)`. Every window
 * is a union of whole panes, so a sliding aggregation can keep one accumulator per pane and
 * combine them per window, instead of adding each record to `size / slide` windows.
 *
 * A time `t` is in `ceil((size - r) / slide)` windows, where `r = (t - offset) mod slide`: exactly
 * `size / slide` when `slide` divides `size`, else `floor(size / slide)` or `ceil(size / slide)`.
 */
export interface SlidingWindows {
  readonly kind: 'sliding';
  /** The window length, in whole milliseconds. */
  readonly size: number;
  /** The distance between consecutive window starts, in whole milliseconds; `slide <= size`. */
  readonly slide: number;
  /** Where windows start, relative to the epoch: `0 <= offset < slide`. */
  readonly offset: number;
  /** The pane length: `gcd(size, slide)`. */
  readonly pane: number;
  /**
   * The start of the pane that contains `t`.
   *
   * @throws RangeError when `t` is not a finite number.
   */
  paneOf(t: number): number;
  /**
   * Every window that contains the pane starting at `paneStart`, in ascending order.
   *
   * @throws RangeError when `paneStart` is not a pane start (see {@link SlidingWindows.paneOf}).
   */
  windowsOfPane(paneStart: number): TimeWindow[];
  /**
   * The starts of the panes that tile `w` exactly, in ascending order (`size / pane` of them).
   *
   * @throws RangeError when `w` is not one of these windows (wrong length or alignment).
   */
  panesOf(w: TimeWindow): number[];
  /**
   * Every window that contains `t`, in ascending order; the same windows as
   * `windowsOfPane(paneOf(t))`.
   *
   * @throws RangeError when `t` is not a finite number.
   */
  windowsOf(t: number): TimeWindow[];
}

/**
 * Sliding windows of `size` starting every `slide`, shifted by `offset` (Spark's
 * `window(col, size, slide, startTime)`, Flink's `SlidingEventTimeWindows.of(size, slide, offset)`).
 * As in Spark, `slide` may not exceed `size` (windows with gaps between them are not supported);
 * `slide === size` gives tumbling windows.
 *
 * @param size - the window length: a positive whole number of milliseconds or a duration such as `'10m'`.
 * @param slide - the distance between window starts: positive, whole, at most `size`.
 * @param offset - shifts every window start; `0 <= offset < slide`, 0 by default.
 * @throws RangeError quoting the input when a duration is not positive and whole, when
 *   `slide > size`, or when `offset` is not in `[0, slide)`.
 * @example sliding('10s', '5s').windowsOf(12_000) // [{ start: 5_000, end: 15_000 }, { start: 10_000, end: 20_000 }]
 */
export function sliding(size: DurationLike, slide: DurationLike, offset?: DurationLike): SlidingWindows {
  const sizeMs = parseWindowDuration(size, 'sliding window size');
  const slideMs = parseWindowDuration(slide, 'sliding window slide');
  if (slideMs > sizeMs) {
    throw new RangeError(`sliding window slide: ${slideMs} ms is larger than the window size (${sizeMs} ms); windows would leave gaps. Use a slide of at most the size (equal gives tumbling windows).`);
  }
  const offsetMs = parseWindowOffset(offset, 'sliding window offset', slideMs, 'slide');
  const paneMs = gcd(sizeMs, slideMs);

  const windowsOf = (t: number): TimeWindow[] => {
    const last = windowStartFor(t, offsetMs, slideMs);
    let first = last;
    // Window starts are integers, so `s + size > t` is `s + size > floor(t)`: exact arithmetic.
    const floor = Math.floor(t);
    while (first - slideMs + sizeMs > floor) first -= slideMs;
    const windows: TimeWindow[] = [];
    for (let s = first; s <= last; s += slideMs) windows.push({ start: s, end: s + sizeMs });
    return windows;
  };

  return {
    kind: 'sliding',
    size: sizeMs,
    slide: slideMs,
    offset: offsetMs,
    pane: paneMs,
    paneOf(t: number): number {
      checkEventTime(t, 'sliding window');
      return windowStartFor(t, offsetMs, paneMs);
    },
    windowsOfPane(paneStart: number): TimeWindow[] {
      checkEventTime(paneStart, 'sliding window pane');
      if (windowStartFor(paneStart, offsetMs, paneMs) !== paneStart) {
        throw new RangeError(`sliding window pane: ${paneStart} is not a pane start (panes are ${paneMs} ms long from offset ${offsetMs}); pass a value returned by paneOf.`);
      }
      // Window bounds fall on pane bounds, so a window holds the whole pane when it holds its start.
      return windowsOf(paneStart);
    },
    panesOf(w: TimeWindow): number[] {
      if (w.end - w.start !== sizeMs || windowStartFor(w.start, offsetMs, slideMs) !== w.start) {
        throw new RangeError(`sliding window: [${w.start}, ${w.end}) is not a window of size ${sizeMs} ms, slide ${slideMs} ms and offset ${offsetMs} ms.`);
      }
      const panes: number[] = [];
      for (let p = w.start; p < w.end; p += paneMs) panes.push(p);
      return panes;
    },
    windowsOf(t: number): TimeWindow[] {
      checkEventTime(t, 'sliding window');
      return windowsOf(t);
    },
  };
}

function gcd(a: number, b: number): number {
  let x = a;
  let y = b;
  while (y !== 0) [x, y] = [y, x % y];
  return x;
}
