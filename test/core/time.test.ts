import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseDuration, parsePositiveDuration } from 'sluice/extend';
import type { DurationLike } from 'sluice';

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
