import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Aggregator } from '../../../windows/event-time/aggregator.js';
import { collect, count, max, mean, sum } from '../../../windows/event-time/aggregators.js';
import { combinePanes, slidePanes } from '../../../windows/event-time/pane-combine.js';
import { sliding } from '../../../windows/event-time/sliding-windows.js';
import { windowContains } from '../../../windows/event-time/time-window.js';

type Agg = Aggregator<number, unknown, unknown>;

const assigners = fc
  .integer({ min: 1, max: 12 })
  .chain((slide) => fc.tuple(fc.constant(slide), fc.integer({ min: slide, max: 5 * slide }), fc.integer({ min: 0, max: slide - 1 })))
  .map(([slide, size, offset]) => sliding(size, slide, offset));
const records = fc.array(fc.tuple(fc.integer({ min: -100, max: 100 }), fc.integer({ min: -1000, max: 1000 })), { maxLength: 60 });
const invertible = fc.constantFrom<[string, () => Agg]>(['count', () => count() as Agg], ['sum', () => sum() as Agg], ['mean', () => mean() as Agg]);

describe('combinePanes', () => {
  it('merges the panes in order, skipping empty ones', () => {
    expect(combinePanes([3, undefined, 4], count())).toBe(7);
    expect(combinePanes([['a'], undefined, ['b', 'c']], collect<string>())).toEqual(['a', 'b', 'c']);
    expect(combinePanes([null, 5, undefined], max())).toBe(5);
  });

  it('gives create() for a window without records', () => {
    expect(combinePanes([], count())).toBe(0);
    expect(combinePanes([undefined, undefined], mean())).toEqual({ sum: 0, count: 0 });
  });
});

describe('slidePanes', () => {
  it('subtracts the leaving panes and adds the entering ones', () => {
    expect(slidePanes(7, [3], [5], count())).toBe(9);
    expect(slidePanes(7, [3, undefined], [undefined, 1], sum())).toBe(5);
    expect(slidePanes({ sum: 10, count: 2 }, [{ sum: 4, count: 1 }], [], mean())).toEqual({ sum: 6, count: 1 });
  });

  it('rejects an aggregator without an inverse with a TypeError', () => {
    expect(() => slidePanes(1, [1], [1], max())).toThrow(TypeError);
    expect(() => slidePanes(1, [1], [1], max())).toThrow(/has no inverse; recombine the window from its panes with combinePanes/);
  });

  it('incremental window result = recomputed result = brute force over the records, across consecutive windows (law)', () => {
    fc.assert(
      fc.property(assigners, records, invertible, fc.integer({ min: -120, max: 100 }), (a, recs, [, make], from) => {
        const agg = make();
        const panes = new Map<number, unknown>();
        for (const [t, v] of recs) {
          const p = a.paneOf(t);
          panes.set(p, agg.add(panes.has(p) ? panes.get(p) : agg.create(), v));
        }
        const paneAccs = (starts: number[]): unknown[] => starts.map((p) => panes.get(p));
        let window = a.windowsOf(from)[0]!;
        let acc = combinePanes(paneAccs(a.panesOf(window)), agg);
        for (let step = 0; step < 30; step++) {
          const next = { start: window.start + a.slide, end: window.end + a.slide };
          const before = a.panesOf(window);
          const after = a.panesOf(next);
          acc = slidePanes(acc, paneAccs(before.filter((p) => p < next.start)), paneAccs(after.filter((p) => p >= window.end)), agg);
          window = next;
          const recomputed = combinePanes(paneAccs(after), agg);
          const bruteForce = recs.filter(([t]) => windowContains(window, t)).reduce((x, [, v]) => agg.add(x, v), agg.create());
          expect(acc).toEqual(recomputed);
          expect(agg.result(acc)).toEqual(agg.result(bruteForce));
        }
      }),
    );
  });
});
