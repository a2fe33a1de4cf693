import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { windowContains } from '../../../windows/event-time/time-window.js';
import { tumbling } from '../../../windows/event-time/tumbling-windows.js';

/** A size and an offset in [0, size). */
const sizeAndOffset = fc.integer({ min: 1, max: 10 ** 8 }).chain((size) => fc.tuple(fc.constant(size), fc.integer({ min: 0, max: size - 1 })));
/** Event times, negative and fractional included. */
const eventTime = fc.oneof(fc.integer({ min: -(10 ** 14), max: 10 ** 14 }), fc.double({ min: -1e13, max: 1e13, noNaN: true, noDefaultInfinity: true }));

describe('tumbling', () => {
  it('parses durations and reports its parameters', () => {
    const assigner = tumbling('1m', '15s');
    expect([assigner.kind, assigner.size, assigner.offset]).toEqual(['tumbling', 60_000, 15_000]);
    expect(tumbling({ hours: 1 }).offset).toBe(0);
  });

  it.each([
    [0, { start: 0, end: 10 }],
    [9, { start: 0, end: 10 }],
    [10, { start: 10, end: 20 }],
    [-1, { start: -10, end: 0 }],
    [-10, { start: -10, end: 0 }],
    [-10.5, { start: -20, end: -10 }],
    [9.999, { start: 0, end: 10 }],
  ])('puts %d in %j', (t, w) => {
    expect(tumbling(10).windowOf(t)).toEqual(w);
  });

  it('shifts windows by the offset, also before the offset and the epoch', () => {
    const w = tumbling(10, 3);
    expect(w.windowOf(3)).toEqual({ start: 3, end: 13 });
    expect(w.windowOf(2)).toEqual({ start: -7, end: 3 });
    expect(w.windowOf(-8)).toEqual({ start: -17, end: -7 });
    expect(tumbling('1h', '15m').windowOf(Date.UTC(2024, 0, 1, 10, 10))).toEqual({ start: Date.UTC(2024, 0, 1, 9, 15), end: Date.UTC(2024, 0, 1, 10, 15) });
  });

  it('puts every time in exactly one window, which contains it (law)', () => {
    fc.assert(
      fc.property(sizeAndOffset, eventTime, ([size, offset], t) => {
        const w = tumbling(size, offset).windowOf(t);
        expect(windowContains(w, t)).toBe(true);
        expect(w.end - w.start).toBe(size);
        expect((((w.start - offset) % size) + size) % size).toBe(0);
        // The aligned neighbours do not contain t, so no other window of the assigner does.
        expect(windowContains({ start: w.start - size, end: w.start }, t)).toBe(false);
        expect(windowContains({ start: w.end, end: w.end + size }, t)).toBe(false);
      }),
    );
  });

  it('consecutive windows tile time (law)', () => {
    fc.assert(
      fc.property(sizeAndOffset, fc.integer({ min: -(10 ** 14), max: 10 ** 14 }), ([size, offset], t) => {
        const assigner = tumbling(size, offset);
        const w = assigner.windowOf(t);
        expect(assigner.windowOf(w.start)).toEqual(w);
        expect(assigner.windowOf(w.end - 1)).toEqual(w);
        expect(assigner.windowOf(w.end).start).toBe(w.end);
        expect(assigner.windowOf(w.start - 1).end).toBe(w.start);
      }),
    );
  });

  it.each([
    ['a zero size', () => tumbling(0), /tumbling window size: 0 must be greater than zero/],
    ['a negative size', () => tumbling(-5), /tumbling window size: -5 /],
    ['a size that is not a duration', () => tumbling('soon'), /tumbling window size: 'soon'/],
    ['a fractional size', () => tumbling('1.5ms'), /tumbling window size: '1.5ms' is 1.5 ms; window durations must be a whole number/],
    ['an offset equal to the size', () => tumbling('1m', '1m'), /tumbling window offset: '1m' \(60000 ms\) must be smaller than the window size \(60000 ms\)/],
    ['a negative offset', () => tumbling(10, -1), /tumbling window offset: -1 /],
    ['a fractional offset', () => tumbling(10, 0.5), /tumbling window offset: 0.5 is 0.5 ms/],
  ])('rejects %s with a RangeError quoting it', (_what, make, message) => {
    expect(make).toThrow(RangeError);
    expect(make).toThrow(message);
  });

  it.each([Number.NaN, Number.POSITIVE_INFINITY])('rejects the event time %d with a RangeError', (t) => {
    expect(() => tumbling(10).windowOf(t)).toThrow(RangeError);
    expect(() => tumbling(10).windowOf(t)).toThrow(`event time ${t} is not a finite number`);
  });
});
