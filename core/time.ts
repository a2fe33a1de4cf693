import { Duration as LuxonDuration } from 'luxon';

declare const timeBrand: unique symbol;
declare const durationBrand: unique symbol;

/** A point in time, in milliseconds since the Unix epoch. */
export type Time = number & { readonly [timeBrand]: 'Time' };

/** A length of time in milliseconds. */
export type Duration = number & { readonly [durationBrand]: 'Duration' };

/**
 * A duration as an object of units, as luxon's `Duration.fromObject` reads it: `{ minutes: 5 }`,
 * `{ hours: 1, minutes: 30 }`. Declared here rather than taken from luxon's types, so that the
 * package's types need no `@types/luxon` in the user's project.
 *
 * Every unit has a fixed length: a week is 7 days and a day 24 hours, also across a
 * daylight-saving change. Months, quarters and years have no fixed length and are refused (a
 * `RangeError`); for windows that follow the calendar use `calendar({ unit: 'month' | 'quarter' |
 * 'year', zone })` from `sluice/windows`, which steps by luxon's calendar arithmetic in the zone.
 */
export interface DurationLikeObject {
  readonly weeks?: number;
  readonly days?: number;
  readonly hours?: number;
  readonly minutes?: number;
  readonly seconds?: number;
  readonly milliseconds?: number;
}

/**
 * Anything Sluice accepts where it asks for a duration: milliseconds as a number, a short human
 * string (`'500ms'`, `'2s'`, `'5m'` (minutes), `'1h'`, `'1d'`, also combined as `'1m30s'`), an
 * ISO-8601 duration (`'PT5M'`, `'P1D'`, `'P1W'`), or an object of units (`{ minutes: 5 }`, see
 * {@link DurationLikeObject}). A duration is a fixed number of milliseconds: a day is 24 h, a week
 * 7 days; months, quarters and years (`'P1M'`, `'P1Y'`, `{ months: 1 }`) are refused.
 */
export type DurationLike = number | string | DurationLikeObject;

const UNIT_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

const SHORT_FORM = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+$/;
const SHORT_PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g;

/** Brands a number of milliseconds as a {@link Time}. */
export function time(ms: number): Time {
  return ms as Time;
}

/**
 * Parses a {@link DurationLike} into milliseconds.
 *
 * @param input - the value the user gave.
 * @param what - what the duration is for, quoted in the error (`'batchInterval'`).
 * @returns the duration in whole or fractional milliseconds, never negative.
 * @throws RangeError when the input is not a duration, is negative or is not finite, or has
 *   months, quarters or years (which have no fixed length; see {@link DurationLikeObject}).
 * @example parseDuration('PT1M', 'timeout') // 60000
 */
export function parseDuration(input: DurationLike, what = 'duration'): Duration {
  const ms = toMillis(input, what);
  if (!Number.isFinite(ms) || ms < 0) {
    throw new RangeError(`${what}: ${quote(input)} is not a valid duration; give a non-negative number of milliseconds or a string such as '500ms', '2s', '5m' or 'PT5M'.`);
  }
  return ms as Duration;
}

/** Like {@link parseDuration}, but also rejects zero. */
export function parsePositiveDuration(input: DurationLike, what = 'duration'): Duration {
  const ms = parseDuration(input, what);
  if (ms === 0) {
    throw new RangeError(`${what}: ${quote(input)} must be greater than zero.`);
  }
  return ms;
}

function toMillis(input: DurationLike, what: string): number {
  if (typeof input === 'number') return input;
  if (typeof input === 'string') {
    const text = input.trim();
    if (SHORT_FORM.test(text)) {
      let total = 0;
      for (const [, amount, unit] of text.matchAll(SHORT_PART)) {
        total += Number(amount) * (UNIT_MS[unit ?? ''] ?? Number.NaN);
      }
      return total;
    }
    const iso = LuxonDuration.fromISO(text);
    return iso.isValid ? fixedMillis(iso, input, what) : Number.NaN;
  }
  if (typeof input === 'object' && input !== null) {
    if (Object.keys(input).length === 0) return Number.NaN;
    let fromObject: LuxonDuration;
    try {
      fromObject = LuxonDuration.fromObject(input);
    } catch {
      return Number.NaN;
    }
    return fromObject.isValid ? fixedMillis(fromObject, input, what) : Number.NaN;
  }
  throw new RangeError(`${what}: ${quote(input)} is not a valid duration; give milliseconds or a string such as '2s'.`);
}

/**
 * The milliseconds of a luxon duration whose units all have a fixed length (weeks of 7 days, days
 * of 24 h: luxon's conversion). Months, quarters and years would count as luxon's casual 30, 91
 * and 365 days, a silent guess: refused instead, as Spark refuses month intervals in `window()`.
 */
function fixedMillis(duration: LuxonDuration, input: DurationLike, what: string): number {
  const calendarUnits = (['years', 'quarters', 'months'] as const).filter((unit) => duration.get(unit) !== 0);
  if (calendarUnits.length > 0) {
    throw new RangeError(
      `${what}: ${quote(input)} has ${calendarUnits.join(' and ')}, which have no fixed length; a duration is a fixed number of milliseconds. ` +
        `Give days or weeks instead (a day is 24 h, a week 7 days: '30d', { days: 30 }, 'P30D'), ` +
        `or, for windows that follow the calendar, use calendar({ unit: 'month', zone }) (or 'quarter', 'year') from sluice/windows.`,
    );
  }
  return duration.toMillis();
}

function quote(input: unknown): string {
  if (typeof input === 'string') return `'${input}'`;
  if (typeof input === 'number') return String(input);
  try {
    return JSON.stringify(input) ?? String(input);
  } catch {
    return String(input);
  }
}
