import { DateTime, IANAZone } from 'luxon';
import { windowContains, type TimeWindow } from './time-window.js';
import { checkEventTime } from './window-duration.js';

/** The calendar units a {@link CalendarWindows} can cut time into. */
export type CalendarUnit = 'day' | 'week' | 'month' | 'quarter' | 'year';

const TWO_DAYS = 2 * 86_400_000;

const PLURAL = { day: 'days', week: 'weeks', month: 'months', quarter: 'quarters', year: 'years' } as const satisfies Record<CalendarUnit, string>;

/**
 * Windows that follow the calendar of a time zone: one per local day, ISO week (Monday to
 * Monday), month, quarter (from January, April, July and October 1st) or year. Each window runs
 * from the first instant of the unit in the zone to the first instant of the next one, so a day
 * with a daylight-saving change is one window of 23 or 25 hours (23.5 or 24.5 on Lord Howe
 * Island), February is 28 or 29 days, a year 365 or 366 days (give or take the zone's shifts),
 * and consecutive windows tile time with no gap or overlap. This is the one place where months,
 * quarters and years are lengths: plain durations (a `tumbling` size) are fixed and refuse them.
 */
export interface CalendarWindows {
  readonly kind: 'calendar';
  readonly unit: CalendarUnit;
  /** The IANA time zone, as given (`'Europe/Berlin'`). */
  readonly zone: string;
  /**
   * The window that contains `t`: `[start of its day/week/month/quarter/year, start of the next
   * one)` in the zone.
   *
   * @throws RangeError when `t` is not a finite number or is beyond ±8.64e15 ms (JavaScript dates).
   */
  windowOf(t: number): TimeWindow;
}

/**
 * Calendar windows in an IANA time zone, computed with luxon: the start is
 * `DateTime.fromMillis(t, { zone }).startOf(unit)`, the end the start of the following unit
 * (`start.plus({ days: 1 }).startOf('day')` for days). Each bound is the first instant of its
 * unit: where a zone skips local midnight (America/Havana in March) the day starts at 01:00, and
 * where midnight happens twice (Havana, 2015-11-01) at the first one. The windows tile time, so a
 * time belongs to the unit whose first instant came last: where clocks went back across midnight
 * (America/St_Johns until 2011), the repeated late-evening hour falls in the new day's window.
 *
 * @param options.unit - `'day'`, `'week'` (ISO weeks, starting Monday 00:00), `'month'`,
 *   `'quarter'` (January, April, July, October) or `'year'`.
 * @param options.zone - an IANA zone name such as `'Europe/Berlin'` or `'UTC'`.
 * @throws RangeError naming the unit or zone when either is not supported.
 * @example calendar({ unit: 'day', zone: 'Europe/Berlin' }).windowOf(Date.UTC(2024, 2, 31, 12))
 *   // { start: 2024-03-30T23:00Z, end: 2024-03-31T22:00Z } as ms: a 23-hour day
 * @example calendar({ unit: 'year', zone: 'Europe/Berlin' }) // local years, 2024 being 366 days
 */
export function calendar(options: { unit: CalendarUnit; zone: string }): CalendarWindows {
  const { unit, zone } = options;
  if (!Object.hasOwn(PLURAL, unit)) {
    throw new RangeError(`calendar window unit: ${JSON.stringify(unit)} is not supported; use 'day', 'week', 'month', 'quarter' or 'year'.`);
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
      const at = DateTime.fromMillis(Math.floor(t), { zone });
      if (!at.isValid) throw new RangeError(`calendar window: event time ${t} is outside the dates luxon supports (±8.64e15 ms).`);
      let start = firstInstant(at, unit);
      let end = firstInstant(start.plus(step), unit);
      // Where clocks went back across midnight (America/St_Johns until 2011: 00:01 back to 23:01),
      // a time can read as the day before after the next day has begun: it belongs to the next one.
      while (end.toMillis() <= at.toMillis()) {
        start = end;
        end = firstInstant(end.plus(step), unit);
      }
      last = { start: start.toMillis(), end: end.toMillis() };
      return last;
    },
  };
}

/**
 * The first instant of the unit (in its zone) that holds `at`. luxon's `startOf` keeps the offset
 * `at` has, so where the unit's first wall-clock time happens twice (America/Havana, 2015-11-01:
 * 01:00 back to 00:00) it gives the second time for an instant after it: take the earliest
 * instant showing that wall-clock time under an offset the zone has within two days.
 */
function firstInstant(at: DateTime, unit: CalendarUnit): DateTime {
  const start = at.startOf(unit);
  const ms = start.toMillis();
  let first = start;
  for (const around of [ms - TWO_DAYS, ms + TWO_DAYS]) {
    const offset = DateTime.fromMillis(around, { zone: start.zone }).offset;
    const twin = DateTime.fromMillis(ms + (start.offset - offset) * 60_000, { zone: start.zone });
    if (twin.offset === offset && twin.toMillis() < first.toMillis()) first = twin;
  }
  return first;
}
