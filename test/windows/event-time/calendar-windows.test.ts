import fc from 'fast-check';
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { calendar, type CalendarUnit } from '../../../windows/event-time/calendar-windows.js';
import { windowContains } from '../../../windows/event-time/time-window.js';

const HOUR = 3_600_000;
const local = (iso: string, zone: string): number => DateTime.fromISO(iso, { zone }).toMillis();
const hours = (w: { start: number; end: number }): number => (w.end - w.start) / HOUR;

/** Zones whose local midnight always exists. */
const ZONES = ['Europe/Berlin', 'America/New_York', 'Australia/Sydney', 'UTC', 'Australia/Lord_Howe', 'Asia/Kathmandu'];
/** Zones that skip or repeat local midnight, or a whole day, at some change. */
const ODD_ZONES = ['America/Sao_Paulo', 'America/Havana', 'Asia/Beirut', 'Pacific/Apia', 'America/St_Johns', 'America/Goose_Bay', 'Antarctica/Casey'];
const UNITS: CalendarUnit[] = ['day', 'week', 'month', 'quarter', 'year'];
const in2020s = fc.integer({ min: Date.UTC(2020, 0, 1), max: Date.UTC(2030, 0, 1) });

describe('calendar', () => {
  it('reports its unit and zone', () => {
    const a = calendar({ unit: 'week', zone: 'Europe/Berlin' });
    expect([a.kind, a.unit, a.zone]).toEqual(['calendar', 'week', 'Europe/Berlin']);
  });

  it.each([
    ['Europe/Berlin', '2024-03-31', '2024-04-01', 23],
    ['Europe/Berlin', '2024-10-27', '2024-10-28', 25],
    ['Europe/Berlin', '2024-06-15', '2024-06-16', 24],
    ['America/New_York', '2024-03-10', '2024-03-11', 23],
    ['America/New_York', '2024-11-03', '2024-11-04', 25],
    ['Australia/Sydney', '2024-04-07', '2024-04-08', 25],
    ['Australia/Sydney', '2024-10-06', '2024-10-07', 23],
    ['UTC', '2024-03-31', '2024-04-01', 24],
    ['Australia/Lord_Howe', '2024-04-07', '2024-04-08', 24.5],
    ['Australia/Lord_Howe', '2024-10-06', '2024-10-07', 23.5],
    ['UTC', '2024-10-27', '2024-10-28', 24],
  ])('a day in %s: %s is one window from local midnight to the next', (zone, day, next, length) => {
    const a = calendar({ unit: 'day', zone });
    const start = local(`${day}T00:00`, zone);
    const end = local(`${next}T00:00`, zone);
    for (const t of [start, start + 1, local(`${day}T02:30`, zone), local(`${day}T12:00`, zone), end - 1]) {
      expect(a.windowOf(t)).toEqual({ start, end });
    }
    expect(hours({ start, end })).toBe(length);
    expect(a.windowOf(end).start).toBe(end);
    expect(a.windowOf(start - 1).end).toBe(start);
  });

  it('puts both copies of a repeated hour in the same day', () => {
    const a = calendar({ unit: 'day', zone: 'Europe/Berlin' });
    // 2024-10-27 02:30 local happens at 00:30 and at 01:30 UTC.
    expect(a.windowOf(Date.UTC(2024, 9, 27, 0, 30))).toEqual(a.windowOf(Date.UTC(2024, 9, 27, 1, 30)));
  });

  it('starts weeks on Monday 00:00 local time (ISO weeks)', () => {
    const a = calendar({ unit: 'week', zone: 'Europe/Berlin' });
    const w = a.windowOf(local('2024-03-27T15:00', 'Europe/Berlin')); // a Wednesday
    expect(w).toEqual({ start: local('2024-03-25T00:00', 'Europe/Berlin'), end: local('2024-04-01T00:00', 'Europe/Berlin') });
    expect(hours(w)).toBe(7 * 24 - 1);
    expect(a.windowOf(local('2024-03-24T23:59', 'Europe/Berlin')).end).toBe(w.start); // Sunday is the week before
    expect(hours(calendar({ unit: 'week', zone: 'UTC' }).windowOf(Date.UTC(2024, 0, 1)))).toBe(7 * 24);
  });

  it.each([
    ['UTC', '2023-02-10', '2023-02-01', '2023-03-01', 28 * 24],
    ['UTC', '2024-02-29', '2024-02-01', '2024-03-01', 29 * 24],
    ['UTC', '2024-04-30', '2024-04-01', '2024-05-01', 30 * 24],
    ['UTC', '2024-12-31', '2024-12-01', '2025-01-01', 31 * 24],
    ['Europe/Berlin', '2024-03-15', '2024-03-01', '2024-04-01', 31 * 24 - 1],
    ['Europe/Berlin', '2024-10-01', '2024-10-01', '2024-11-01', 31 * 24 + 1],
    ['Australia/Sydney', '2024-04-20', '2024-04-01', '2024-05-01', 30 * 24 + 1],
  ])('months in %s: %s is in [%s, %s), %d hours', (zone, day, first, next, length) => {
    const w = calendar({ unit: 'month', zone }).windowOf(local(`${day}T12:00`, zone));
    expect(w).toEqual({ start: local(`${first}T00:00`, zone), end: local(`${next}T00:00`, zone) });
    expect(hours(w)).toBe(length);
  });

  it.each([
    ['UTC', '2023-07-01', '2023-01-01', '2024-01-01', 365 * 24],
    ['UTC', '2024-02-29', '2024-01-01', '2025-01-01', 366 * 24],
    // Both ends in winter time: the year's two daylight-saving shifts cancel out.
    ['Europe/Berlin', '2024-03-31', '2024-01-01', '2025-01-01', 366 * 24],
    ['America/New_York', '2023-11-05', '2023-01-01', '2024-01-01', 365 * 24],
    // Moscow left +04:00 for +03:00 on 2014-10-26 for good: that year has an hour more.
    ['Europe/Moscow', '2014-06-01', '2014-01-01', '2015-01-01', 365 * 24 + 1],
    // Samoa skipped 2011-12-30 when it crossed the date line: that year has a day less.
    ['Pacific/Apia', '2011-06-01', '2011-01-01', '2012-01-01', 364 * 24],
  ])('years in %s: %s is in [%s, %s), %d hours (leap years and zone changes by luxon)', (zone, day, first, next, length) => {
    const a = calendar({ unit: 'year', zone });
    const w = a.windowOf(local(`${day}T12:00`, zone));
    expect(w).toEqual({ start: local(`${first}T00:00`, zone), end: local(`${next}T00:00`, zone) });
    expect(hours(w)).toBe(length);
    expect(a.windowOf(w.end - 1)).toEqual(w);
    expect(a.windowOf(w.end).start).toBe(w.end);
  });

  it.each([
    ['UTC', '2024-02-29', '2024-01-01', '2024-04-01', (31 + 29 + 31) * 24],
    ['UTC', '2023-02-10', '2023-01-01', '2023-04-01', (31 + 28 + 31) * 24],
    ['Europe/Berlin', '2024-03-31', '2024-01-01', '2024-04-01', (31 + 29 + 31) * 24 - 1],
    ['Europe/Berlin', '2024-12-31', '2024-10-01', '2025-01-01', (31 + 30 + 31) * 24 + 1],
    ['Australia/Sydney', '2024-05-05', '2024-04-01', '2024-07-01', (30 + 31 + 30) * 24 + 1],
  ])('quarters in %s: %s is in [%s, %s), %d hours', (zone, day, first, next, length) => {
    const w = calendar({ unit: 'quarter', zone }).windowOf(local(`${day}T12:00`, zone));
    expect(w).toEqual({ start: local(`${first}T00:00`, zone), end: local(`${next}T00:00`, zone) });
    expect(hours(w)).toBe(length);
  });

  it('gives [local midnight, next local midnight) containing t, tiling time, in every zone, 2020-2030 (law)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...ZONES), fc.constantFrom(...UNITS), in2020s, (zone, unit, t) => {
        const a = calendar({ unit, zone });
        const w = a.windowOf(t);
        expect(windowContains(w, t)).toBe(true);
        const start = DateTime.fromMillis(w.start, { zone });
        const end = DateTime.fromMillis(w.end, { zone });
        for (const edge of [start, end]) {
          expect([edge.hour, edge.minute, edge.second, edge.millisecond]).toEqual([0, 0, 0, 0]);
          if (unit === 'week') expect(edge.weekday).toBe(1);
          if (unit === 'month' || unit === 'quarter' || unit === 'year') expect(edge.day).toBe(1);
          if (unit === 'quarter') expect([1, 4, 7, 10]).toContain(edge.month);
          if (unit === 'year') expect(edge.month).toBe(1);
        }
        expect(end.toISODate()).toBe(start.plus({ [`${unit}s`]: 1 }).toISODate());
        // A day is 24 hours, give or take the zone's daylight-saving shift (30 minutes on Lord Howe Island).
        if (unit === 'day') expect(Math.abs(hours(w) - 24)).toBeLessThanOrEqual(1);
        expect(a.windowOf(w.end).start).toBe(w.end);
        expect(a.windowOf(w.start - 1).end).toBe(w.start);
        expect(a.windowOf(w.start)).toEqual(w);
      }),
      { numRuns: 500 },
    );
  });

  it('tiles time without gaps or overlaps where midnight is skipped or repeated (law)', () => {
    // Sao Paulo moved clocks at midnight until 2019, Havana and Beirut still do, Apia skipped 2011-12-30,
    // St John's and Goose Bay went back across midnight (00:01 to 23:01) until 2011, Casey by 3 hours in 2010.
    fc.assert(
      fc.property(fc.constantFrom(...ODD_ZONES), fc.constantFrom(...UNITS), fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2030, 0, 1) }), (zone, unit, t) => {
        const a = calendar({ unit, zone });
        const w = a.windowOf(t);
        expect(windowContains(w, t)).toBe(true);
        expect(a.windowOf(w.end).start).toBe(w.end);
        expect(a.windowOf(w.start - 1).end).toBe(w.start);
        expect(DateTime.fromMillis(w.start, { zone }).startOf(unit).toMillis()).toBe(w.start);
      }),
      { numRuns: 500 },
    );
  });

  it('starts a day whose midnight does not exist at its first instant', () => {
    const a = calendar({ unit: 'day', zone: 'America/Sao_Paulo' });
    // 2018-11-04: clocks went from 00:00 to 01:00.
    const w = a.windowOf(local('2018-11-04T12:00', 'America/Sao_Paulo'));
    expect(w).toEqual({ start: Date.UTC(2018, 10, 4, 3), end: Date.UTC(2018, 10, 5, 2) });
    expect(hours(w)).toBe(23);
  });

  it('starts a day at its first midnight where midnight happens twice (regression: seed 1947912309)', () => {
    // America/Havana, 2015-11-01: clocks went back from 01:00 to 00:00, so 00:00-01:00 local ran twice.
    const a = calendar({ unit: 'day', zone: 'America/Havana' });
    const day = { start: Date.UTC(2015, 10, 1, 4), end: Date.UTC(2015, 10, 2, 5) };
    for (const t of [Date.UTC(2015, 10, 1, 4, 30), Date.UTC(2015, 10, 1, 5), Date.UTC(2015, 10, 1, 5, 30)]) {
      expect(calendar({ unit: 'day', zone: 'America/Havana' }).windowOf(t)).toEqual(day);
      expect(a.windowOf(t)).toEqual(day);
    }
    expect(hours(day)).toBe(25);
    expect(calendar({ unit: 'month', zone: 'America/Havana' }).windowOf(Date.UTC(2015, 9, 31, 12)).end).toBe(day.start);
  });

  it('puts an evening hour repeated after midnight in the new day, so windows still tile time', () => {
    // America/St_Johns, 2009-11-01 00:01 NDT went back to 2009-10-31 23:01 NST: found by a scan of every zone.
    const day = { start: Date.UTC(2009, 10, 1, 2, 30), end: Date.UTC(2009, 10, 2, 3, 30) };
    for (const t of [Date.UTC(2009, 10, 1, 2, 30), Date.UTC(2009, 10, 1, 2, 45), Date.UTC(2009, 10, 1, 3, 30)]) {
      expect(calendar({ unit: 'day', zone: 'America/St_Johns' }).windowOf(t)).toEqual(day);
    }
    expect(DateTime.fromMillis(Date.UTC(2009, 10, 1, 2, 45), { zone: 'America/St_Johns' }).day).toBe(31);
    expect(calendar({ unit: 'day', zone: 'America/St_Johns' }).windowOf(day.start - 1).end).toBe(day.start);
    expect(calendar({ unit: 'month', zone: 'America/St_Johns' }).windowOf(Date.UTC(2009, 10, 1, 2, 45)).start).toBe(day.start);
  });

  it('gives the same windows whatever it was asked before (its cache is invisible) (law)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...ZONES), fc.constantFrom(...UNITS), fc.array(in2020s, { maxLength: 20 }), (zone, unit, times) => {
        const shared = calendar({ unit, zone });
        for (const t of times) expect(shared.windowOf(t)).toEqual(calendar({ unit, zone }).windowOf(t));
      }),
    );
  });

  it('handles fractional and pre-epoch times', () => {
    const a = calendar({ unit: 'day', zone: 'UTC' });
    expect(a.windowOf(-0.5)).toEqual({ start: -24 * HOUR, end: 0 });
    expect(a.windowOf(24 * HOUR - 0.25)).toEqual({ start: 0, end: 24 * HOUR });
  });

  it.each([
    ['an unknown zone', () => calendar({ unit: 'day', zone: 'Mars/Olympus_Mons' }), /calendar window zone: "Mars\/Olympus_Mons" is not a known IANA time zone/],
    ['an empty zone', () => calendar({ unit: 'day', zone: '' }), /calendar window zone: ""/],
    ['a unit that is not a calendar unit', () => calendar({ unit: 'hour' as CalendarUnit, zone: 'UTC' }), /calendar window unit: "hour" is not supported; use 'day', 'week', 'month', 'quarter' or 'year'/],
    ['a plural unit', () => calendar({ unit: 'days' as CalendarUnit, zone: 'UTC' }), /"days" is not supported/],
  ])('rejects %s with a RangeError naming it', (_what, make, message) => {
    expect(make).toThrow(RangeError);
    expect(make).toThrow(message);
  });

  it.each([Number.NaN, Number.POSITIVE_INFINITY, 9e15])('rejects the event time %d with a RangeError', (t) => {
    expect(() => calendar({ unit: 'day', zone: 'UTC' }).windowOf(t)).toThrow(RangeError);
  });
});
