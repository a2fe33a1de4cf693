import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseDuration, parsePositiveDuration } from 'sluice/extend';
import { ManualClock, StreamingContext, type DurationLike } from 'sluice';
import { session, sliding, tumbling, window } from 'sluice/windows';

describe('parseDuration', () => {
  it.each<[DurationLike, number]>([
    [0, 0],
    [250, 250],
    [1.5, 1.5],
    ['500ms', 500],
    ['2s', 2_000],
    ['1.5s', 1_500],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['1d', 86_400_000],
    ['1m30s', 90_000],
    ['1h0m5s250ms', 3_605_250],
    [' 2s ', 2_000],
    ['PT5M', 300_000],
    ['PT0.5S', 500],
    ['PT1H30M', 5_400_000],
    ['P1D', 86_400_000],
    [{ minutes: 5 }, 300_000],
    [{ seconds: 1, milliseconds: 500 }, 1_500],
  ])('parses %j as %d ms', (input, ms) => {
    expect(parseDuration(input)).toBe(ms);
  });

  it.each<[string, DurationLike, string]>([
    ['a word', 'abc', "'abc'"],
    ['an empty string', '', "''"],
    ['a negative short form', '-5s', "'-5s'"],
    ['a negative ISO duration', 'PT-5S', "'PT-5S'"],
    ['an unknown unit', '5 parsecs', "'5 parsecs'"],
    ['a negative number', -1, '-1'],
    ['a negative duration object', { minutes: -5 }, '{"minutes":-5}'],
    ['an object with an unknown unit', { parsecs: 5 } as DurationLike, '{"parsecs":5}'],
  ])('rejects %s with a RangeError quoting the input', (_what, input, quoted) => {
    expect(() => parseDuration(input)).toThrow(RangeError);
    expect(() => parseDuration(input)).toThrow(quoted);
    expect(() => parseDuration(input, 'batchInterval')).toThrow(/^batchInterval: /);
  });

  it.each<[string, number]>([
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['-Infinity', Number.NEGATIVE_INFINITY],
  ])('rejects %s with a RangeError', (_what, input) => {
    expect(() => parseDuration(input)).toThrow(RangeError);
  });

  it.each<[string, number]>([
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
  ])('quotes %s in the RangeError message', (what, input) => {
    expect(() => parseDuration(input)).toThrow(what);
  });

  it('gives n for `${n}ms` and for n, for any integer n in 0..1e9', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e9 }), (n) => {
        expect(parseDuration(`${n}ms`)).toBe(n);
        expect(parseDuration(n)).toBe(n);
      }),
    );
  });

  it('adds up the parts of a combined short form', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 400 }),
        fc.integer({ min: 0, max: 59 }),
        fc.integer({ min: 0, max: 59 }),
        fc.integer({ min: 0, max: 999 }),
        (h, m, s, ms) => {
          expect(parseDuration(`${h}h${m}m${s}s${ms}ms`)).toBe(((h * 60 + m) * 60 + s) * 1000 + ms);
          expect(parseDuration(`PT${h}H${m}M${s}S`)).toBe(((h * 60 + m) * 60 + s) * 1000);
        },
      ),
    );
  });
});

describe('parsePositiveDuration', () => {
  it.each<DurationLike>([0, '0s', '0ms', 'PT0S', { minutes: 0 }])('rejects the zero duration %j with a RangeError', (input) => {
    expect(() => parsePositiveDuration(input, 'batchInterval')).toThrow(RangeError);
    expect(() => parsePositiveDuration(input, 'batchInterval')).toThrow(/batchInterval: .* must be greater than zero/);
  });

  it('accepts what parseDuration accepts, when it is not zero', () => {
    expect(parsePositiveDuration('1ms')).toBe(1);
    expect(parsePositiveDuration('PT5M')).toBe(300_000);
    expect(() => parsePositiveDuration('-1s')).toThrow(RangeError);
  });
});

describe('parseDuration of an empty object', () => {
  it('is a RangeError, not zero', () => {
    expect(() => parseDuration({})).toThrow(RangeError);
  });
});

describe('durations have a fixed length: no months, quarters or years', () => {
  const DAY = 86_400_000;

  it.each<[DurationLike, number]>([
    ['1d', DAY],
    ['P1D', DAY],
    [{ days: 1 }, DAY],
    ['P1W', 7 * DAY],
    [{ weeks: 1 }, 7 * DAY],
    ['P2W', 14 * DAY],
    ['P30D', 30 * DAY],
    ['P365D', 365 * DAY],
    [{ weeks: 1, days: 1, hours: 1 }, 8 * DAY + 3_600_000],
    ['P1DT12H', 1.5 * DAY],
    ['P0M', 0],
    ['P0Y0M1D', DAY],
  ])('%j is %d ms: a day is 24 h, a week 7 days', (input, ms) => {
    expect(parseDuration(input)).toBe(ms);
  });

  it.each<[DurationLike, string]>([
    ['P1M', 'months'],
    ['P1Y', 'years'],
    ['P1Y2M', 'years and months'],
    ['P1MT5M', 'months'],
    [{ months: 1 } as DurationLike, 'months'],
    [{ quarters: 1 } as DurationLike, 'quarters'],
    [{ years: 1, days: 2 } as DurationLike, 'years'],
    [{ months: -1 } as DurationLike, 'months'],
  ])('refuses %j with a RangeError that names the unit and says what to use', (input, units) => {
    expect(() => parseDuration(input, 'stateSpec ttl')).toThrow(RangeError);
    expect(() => parseDuration(input, 'stateSpec ttl')).toThrow(`has ${units}, which have no fixed length`);
    expect(() => parseDuration(input, 'stateSpec ttl')).toThrow(/^stateSpec ttl: .*a day is 24 h, a week 7 days.*calendar\(\{ unit: 'month', zone \}\)/);
  });

  it('months, quarters and years are not units of DurationLikeObject: the compiler refuses them too', () => {
    // @ts-expect-error months have no fixed length
    expect(() => parseDuration({ months: 1 })).toThrow(RangeError);
    // @ts-expect-error years have no fixed length
    expect(() => parseDuration({ years: 1 })).toThrow(RangeError);
  });

  it('refuses months and years wherever a duration is taken (batchInterval, window sizes)', () => {
    expect(() => new StreamingContext({ batchInterval: 'P1M', clock: new ManualClock() })).toThrow(/batchInterval: 'P1M' has months/);
    expect(() => tumbling('P1Y')).toThrow(/has years, which have no fixed length/);
    expect(() => sliding({ months: 1 } as DurationLike, '1d')).toThrow(/has months/);
    expect(() => session('P1M')).toThrow(/has months/);
    expect(() => window('P1M')).toThrow(/has months/);
  });

  it('any number of days or weeks is that many 24-hour days; any non-zero months or years are refused', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000 }), fc.integer({ min: 0, max: 1_000 }), (days, weeks) => {
        expect(parseDuration(`P${days}D`)).toBe(days * DAY);
        expect(parseDuration({ weeks, days })).toBe((7 * weeks + days) * DAY);
        expect(parseDuration(`P${weeks}W`)).toBe(7 * weeks * DAY);
      }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000 }), fc.constantFrom('Y', 'M'), fc.integer({ min: 0, max: 100 }), (n, unit, days) => {
        expect(() => parseDuration(`P${n}${unit}${days}D`)).toThrow(RangeError);
        expect(() => parseDuration({ [unit === 'Y' ? 'years' : 'months']: n, days })).toThrow(/no fixed length/);
      }),
    );
  });
});
