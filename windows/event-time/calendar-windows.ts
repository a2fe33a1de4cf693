import { DateTime, IANAZone } from 'luxon';
import { windowContains, type TimeWindow } from './time-window.js';
import { checkEventTime } from './window-duration.js';

/** The calendar units a {@link CalendarWindows} can cut time into. */
export type CalendarUnit = 'day' | 'week' | 'month';

const PLURAL = { day: 'days', week: 'weeks', month: 'months' } as const satisfies Record<CalendarUnit, string>;

/**
 * Windows that follow the calendar of a time zone: one per local day, ISO week (Monday to
 * Monday) or month. Each window runs from the first instant of the unit in the zone to the first
 * instant of the next one, so a day with a daylight-saving change is one window of 23 or 25
 * hours, and consecutive windows tile time with no gap or overlap.
 */
export interface CalendarWindows {
  readonly kind: 'calendar';
  readonly unit: CalendarUnit;
  /** The IANA time zone, as given (`'Europe/Berlin'`). */
  readonly zone: string;
  /**
   * The window that contains `t`: `[start of its day/week/month, start of the next one)` in the zone.
   *
   * @throws RangeError when `t` is not a finite number or is beyond ±8.64e15 ms (JavaScript dates).
   */
  windowOf(t: number): TimeWindow;
}

/**
 * Calendar windows in an IANA time zone, computed with luxon: the start is
 * `DateTime.fromMillis(t, { zone }).startOf(unit)`, the end the start of the following unit.
 * Where a zone skips local midnight (America/Havana on its spring change, for instance) a day
 * starts at its first existing instant, 01:00.
 *
 * @param options.unit - `'day'`, `'week'` (ISO weeks, starting Monday 00:00) or `'month'`.
 * @param options.zone - an IANA zone name such as `'Europe/Berlin'` or `'UTC'`.
 * @throws RangeError naming the unit or zone when either is not supported.
 * @example calendar({ unit: 'day', zone: 'Europe/Berlin' }).windowOf(Date.UTC(2024, 2, 31, 12))
 *   // { start: 2024-03-30T23:00Z, end: 2024-03-31T22:00Z } as ms: a 23-hour day
 */
export function calendar(options: { unit: CalendarUnit; zone: string }): CalendarWindows {
  const { unit, zone } = options;
  if (!Object.hasOwn(PLURAL, unit)) {
    throw new RangeError(`calendar window unit: ${JSON.stringify(unit)} is not supported; use 'day', 'week' or 'month'.`);
  }
  if (typeof zone !== 'string' || !IANAZone.isValidZone(zone)) {
    throw new RangeError(`calendar window zone: ${JSON.stringify(zone)} is not a known IANA time zone; use a name such as 'Europe/Berlin' or 'UTC'.`);
  }
  const step = { [PLURAL[unit]]: 1 };
  // Records mostly arrive in order, so most share the previous record's window: skip luxon then.
  let last: TimeWindow = { start: 0, end: 0 };
  return {
    kind: 'calendar',
    unit,
    zone,
    windowOf(t: number): TimeWindow {
      checkEventTime(t, 'calendar window');
      if (windowContains(last, t)) return last;
      // Boundaries are whole milliseconds, and luxon would truncate -0.5 towards zero: floor first.
      const start = DateTime.fromMillis(Math.floor(t), { zone }).startOf(unit);
      if (!start.isValid) throw new RangeError(`calendar window: event time ${t} is outside the dates luxon supports (±8.64e15 ms).`);
      // startOf again after plus: where the next unit's midnight does not exist, `plus` keeps
      // the start's 01:00 wall time, but the next window starts at the next unit's first instant.
      const end = start.plus(step).startOf(unit);
      last = { start: start.toMillis(), end: end.toMillis() };
      return last;
    },
  };
}
