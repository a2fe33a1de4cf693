import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sliding, type SlidingWindows } from '../../../windows/event-time/sliding-windows.js';
import { windowContains } from '../../../windows/event-time/time-window.js';

const mod = (a: number, b: number): number => ((a % b) + b) % b;

/** Sliding assigners: a slide, a size at least the slide (a multiple of it or not), an offset below the slide. */
const assigners = fc
  .integer({ min: 1, max: 60 })
  .chain((slide) => fc.tuple(fc.constant(slide), fc.oneof(fc.integer({ min: 1, max: 8 }).map((k) => k * slide), fc.integer({ min: slide, max: 8 * slide })), fc.integer({ min: 0, max: slide - 1 })))
  .map(([slide, size, offset]) => sliding(size, slide, offset));
/** Event times, negative and fractional included. */
const eventTime = fc.oneof(fc.integer({ min: -(10 ** 13), max: 10 ** 13 }), fc.integer({ min: -500, max: 500 }), fc.double({ min: -1e6, max: 1e6, noNaN: true, noDefaultInfinity: true }));

/** How many windows hold `t`: ceil((size - r) / slide) with r = (floor(t) - offset) mod slide. */
const expectedCount = (a: SlidingWindows, t: number): number => Math.ceil((a.size - mod(Math.floor(t) - a.offset, a.slide)) / a.slide);

describe('sliding', () => {
  it('parses durations, and its pane is gcd(size, slide)', () => {
    const a = sliding('10m', '4m', '1m');
    expect([a.kind, a.size, a.slide, a.offset, a.pane]).toEqual(['sliding', 600_000, 240_000, 60_000, 120_000]);
    expect(sliding(10, 5).pane).toBe(5);
    expect(sliding(10, 3).pane).toBe(1);
    expect(sliding(10, 10).pane).toBe(10);
  });

  it('puts a time in size / slide windows when the slide divides the size, ascending', () => {
    expect(sliding(10, 5).windowsOf(12)).toEqual([
      { start: 5, end: 15 },
      { start: 10, end: 20 },
    ]);
    expect(sliding(10, 5).windowsOf(-1)).toEqual([
      { start: -10, end: 0 },
      { start: -5, end: 5 },
    ]);
    expect(sliding(9, 3, 1).windowsOf(0)).toEqual([
      { start: -8, end: 1 },
      { start: -5, end: 4 },
      { start: -2, end: 7 },
    ]);
  });

  it('puts a time in floor or ceil of size / slide windows otherwise', () => {
    const a = sliding(10, 4);
    // starts ≡ 0 mod 4; t = 0 is in [-8, 2), [-4, 6), [0, 10); t = 2 only in [-4, 6), [0, 10).
    expect(a.windowsOf(0)).toEqual([
      { start: -8, end: 2 },
      { start: -4, end: 6 },
      { start: 0, end: 10 },
    ]);
    expect(a.windowsOf(2)).toEqual([
      { start: -4, end: 6 },
      { start: 0, end: 10 },
    ]);
    expect(a.paneOf(3)).toBe(2);
    expect(a.panesOf({ start: -4, end: 6 })).toEqual([-4, -2, 0, 2, 4]);
  });

  it('puts every time in ceil((size - r) / slide) windows, r = (t - offset) mod slide, each containing it (law)', () => {
    fc.assert(
      fc.property(assigners, eventTime, (a, t) => {
        const windows = a.windowsOf(t);
        expect(windows).toHaveLength(expectedCount(a, t));
        if (a.size % a.slide === 0) expect(windows).toHaveLength(a.size / a.slide);
        else expect([Math.floor(a.size / a.slide), Math.ceil(a.size / a.slide)]).toContain(windows.length);
        windows.forEach((w, i) => {
          expect(windowContains(w, t)).toBe(true);
          expect(w.end - w.start).toBe(a.size);
          expect(mod(w.start - a.offset, a.slide)).toBe(0);
          if (i > 0) expect(w.start - windows[i - 1]!.start).toBe(a.slide);
        });
        // The next windows out on either side do not hold t: the list is complete.
        const first = windows[0]!.start - a.slide;
        const last = windows.at(-1)!.start + a.slide;
        expect(windowContains({ start: first, end: first + a.size }, t)).toBe(false);
        expect(windowContains({ start: last, end: last + a.size }, t)).toBe(false);
      }),
    );
  });

  it('gives the pane of a time, aligned to the offset, and windowsOf(t) = windowsOfPane(paneOf(t)) (law)', () => {
    fc.assert(
      fc.property(assigners, eventTime, (a, t) => {
        const pane = a.paneOf(t);
        expect(pane <= t && t < pane + a.pane).toBe(true);
        expect(mod(pane - a.offset, a.pane)).toBe(0);
        expect(a.windowsOfPane(pane)).toEqual(a.windowsOf(t));
      }),
    );
  });

  it('panesOf(w) tiles w exactly with panes whose windows include w (law)', () => {
    fc.assert(
      fc.property(assigners, eventTime, (a, t) => {
        for (const w of a.windowsOf(t)) {
          const panes = a.panesOf(w);
          expect(panes).toHaveLength(a.size / a.pane);
          expect(panes[0]).toBe(w.start);
          panes.forEach((p, i) => {
            expect(p + a.pane).toBe(panes[i + 1] ?? w.end);
            expect(a.paneOf(p)).toBe(p);
            expect(a.windowsOfPane(p)).toContainEqual(w);
          });
        }
      }),
    );
  });

  it.each([
    ['a slide larger than the size', () => sliding(10, 11), /sliding window slide: 11 ms is larger than the window size \(10 ms\)/],
    ['a zero slide', () => sliding(10, 0), /sliding window slide: 0 must be greater than zero/],
    ['a size that is not a duration', () => sliding('ten', 5), /sliding window size: 'ten'/],
    ['a fractional slide', () => sliding(10, 2.5), /sliding window slide: 2.5 is 2.5 ms; window durations must be a whole number/],
    ['an offset equal to the slide', () => sliding(10, 5, 5), /sliding window offset: 5 \(5 ms\) must be smaller than the slide \(5 ms\)/],
    ['a negative offset', () => sliding(10, 5, '-1s'), /sliding window offset: '-1s'/],
  ])('rejects %s with a RangeError', (_what, make, message) => {
    expect(make).toThrow(RangeError);
    expect(make).toThrow(message);
  });

  it('rejects a pane start that is not one, a window that is not one, and a non-finite time', () => {
    const a = sliding(10, 4);
    expect(() => a.windowsOfPane(3)).toThrow(/3 is not a pane start \(panes are 2 ms long from offset 0\)/);
    expect(() => a.panesOf({ start: 2, end: 12 })).toThrow(/\[2, 12\) is not a window of size 10 ms, slide 4 ms and offset 0 ms/);
    expect(() => a.panesOf({ start: 0, end: 8 })).toThrow(RangeError);
    expect(() => a.windowsOf(Number.NaN)).toThrow(RangeError);
    expect(() => a.paneOf(Number.NEGATIVE_INFINITY)).toThrow(RangeError);
  });
});
