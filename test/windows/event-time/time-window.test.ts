import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareWindows, windowContains, windowStartFor } from '../../../windows/event-time/time-window.js';

describe('TimeWindow', () => {
  it('is half-open: holds its start, not its end', () => {
    const w = { start: 10, end: 20 };
    expect([9, 10, 19.5, 20].map((t) => windowContains(w, t))).toEqual([false, true, true, false]);
  });

  it('orders windows by start, then end', () => {
    const windows = [
      { start: 5, end: 9 },
      { start: -3, end: 7 },
      { start: 5, end: 6 },
      { start: -3, end: 0 },
    ];
    expect([...windows].sort(compareWindows)).toEqual([
      { start: -3, end: 0 },
      { start: -3, end: 7 },
      { start: 5, end: 6 },
      { start: 5, end: 9 },
    ]);
    expect(compareWindows({ start: 1, end: 2 }, { start: 1, end: 2 })).toBe(0);
  });

  it('compareWindows is antisymmetric and zero only for equal bounds (law)', () => {
    const w = fc.record({ start: fc.integer({ min: -5, max: 5 }), end: fc.integer({ min: -5, max: 5 }) });
    fc.assert(
      fc.property(w, w, (a, b) => {
        expect(Math.sign(compareWindows(a, b)) + Math.sign(compareWindows(b, a))).toBe(0);
        expect(compareWindows(a, b) === 0).toBe(a.start === b.start && a.end === b.end);
      }),
    );
  });

  it('windowStartFor uses a true modulo, so times before the epoch and before the offset work', () => {
    expect(windowStartFor(-1, 0, 10)).toBe(-10);
    expect(windowStartFor(-10, 0, 10)).toBe(-10);
    expect(windowStartFor(2, 3, 10)).toBe(-7);
    expect(windowStartFor(-0.5, 0, 10)).toBe(-10);
    expect(windowStartFor(9.99, 0, 10)).toBe(0);
  });

  it('windowStartFor gives the aligned start at or before t, less than a step away (law)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10 ** 9 }).chain((step) => fc.tuple(fc.constant(step), fc.integer({ min: 0, max: step - 1 }))),
        fc.oneof(fc.integer({ min: -(10 ** 15), max: 10 ** 15 }), fc.double({ min: -1e13, max: 1e13, noNaN: true })),
        ([step, offset], t) => {
          const start = windowStartFor(t, offset, step);
          expect(Number.isSafeInteger(start)).toBe(true);
          expect(start <= t && t < start + step).toBe(true);
          expect((((start - offset) % step) + step) % step).toBe(0);
        },
      ),
    );
  });
});
