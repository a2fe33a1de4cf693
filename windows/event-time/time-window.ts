/**
 * An event-time window: the half-open interval `[start, end)` in milliseconds since the epoch.
 * A plain object of two numbers, so it can be kept as state and used in output as it is.
 */
export interface TimeWindow {
  /** The first millisecond in the window. */
  readonly start: number;
  /** The first millisecond after the window. */
  readonly end: number;
}

/** Whether `t` falls in `w`, that is `w.start <= t < w.end`. */
export function windowContains(w: TimeWindow, t: number): boolean {
  return w.start <= t && t < w.end;
}

/**
 * Orders windows by start, then by end: negative when `a` comes first, 0 for equal bounds.
 *
 * @example windows.sort(compareWindows)
 */
export function compareWindows(a: TimeWindow, b: TimeWindow): number {
  if (a.start !== b.start) return a.start < b.start ? -1 : 1;
  if (a.end !== b.end) return a.end < b.end ? -1 : 1;
  return 0;
}

/**
 * The start of the window of `t` among the windows `[offset + k * step, offset + (k + 1) * step)`
 * for every integer `k`, negative times included (Flink's `getWindowStartWithOffset`, with a
 * true modulo). `offset` and `step` are whole milliseconds; `t` may have a fraction.
 *
 * @example windowStartFor(-1, 0, 10) // -10
 */
export function windowStartFor(t: number, offset: number, step: number): number {
  // Boundaries are integers, so the window of t is the window of floor(t), and with integers
  // `%` is exact: no rounding, whatever the magnitude.
  const whole = Math.floor(t);
  let rest = (whole - offset) % step;
  if (rest < 0) rest += step;
  return whole - rest;
}
