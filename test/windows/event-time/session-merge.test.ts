import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { collect, count } from '../../../windows/event-time/aggregators.js';
import { addToSessions, type Session } from '../../../windows/event-time/session-merge.js';
import { compareWindows, windowContains, type TimeWindow } from '../../../windows/event-time/time-window.js';

const add = (a: number, b: number): number => a + b;
const s = (start: number, end: number, acc: number): Session<number> => ({ window: { start, end }, acc });

/** Freezes sessions, their windows and array accumulators, so a mutation throws (ESM is strict). */
function frozen<A>(sessions: Session<A>[]): readonly Session<A>[] {
  for (const session of sessions) {
    Object.freeze(session.window);
    if (Array.isArray(session.acc)) Object.freeze(session.acc);
    Object.freeze(session);
  }
  return Object.freeze(sessions);
}

/** The reference: sort the times, and start a new session when a time is past the current one's end. */
function bruteForce(times: readonly number[], gap: number): { window: TimeWindow; times: number[] }[] {
  const out: { window: TimeWindow; times: number[] }[] = [];
  for (const t of [...times].sort((a, b) => a - b)) {
    const current = out.at(-1);
    if (current !== undefined && t <= current.window.end) {
      current.window = { start: current.window.start, end: Math.max(current.window.end, t + gap) };
      current.times.push(t);
    } else {
      out.push({ window: { start: t, end: t + gap }, times: [t] });
    }
  }
  return out;
}

describe('addToSessions', () => {
  it('opens a session [t, t + gap) when nothing is near', () => {
    const out = addToSessions(frozen([s(0, 10, 1)]), 20, 5, 1, add);
    expect(out).toEqual({ sessions: [s(0, 10, 1), s(20, 25, 1)], merged: [], window: { start: 20, end: 25 } });
  });

  it('extends a session the record overlaps, retracting the old window', () => {
    const out = addToSessions(frozen([s(0, 10, 2)]), 8, 5, 1, add);
    expect(out).toEqual({ sessions: [s(0, 13, 3)], merged: [{ start: 0, end: 10 }], window: { start: 0, end: 13 } });
  });

  it('extends a session backwards for a record that arrives late', () => {
    const out = addToSessions(frozen([s(10, 20, 1)]), 7, 5, 1, add);
    expect(out).toEqual({ sessions: [s(7, 20, 2)], merged: [{ start: 10, end: 20 }], window: { start: 7, end: 20 } });
  });

  it('keeps the window, and retracts nothing, for a record inside a session', () => {
    const out = addToSessions(frozen([s(0, 10, 2)]), 3, 5, 1, add);
    expect(out).toEqual({ sessions: [s(0, 10, 3)], merged: [], window: { start: 0, end: 10 } });
  });

  it('merges touching windows, as Flink: a record at a session end, or whose window ends at a session start', () => {
    expect(addToSessions(frozen([s(0, 10, 1)]), 10, 5, 1, add).sessions).toEqual([s(0, 15, 2)]);
    expect(addToSessions(frozen([s(10, 20, 1)]), 5, 5, 1, add).sessions).toEqual([s(5, 20, 2)]);
    expect(addToSessions(frozen([s(10, 20, 1)]), 4, 5, 1, add).sessions).toEqual([s(4, 9, 1), s(10, 20, 1)]);
  });

  it('bridges two sessions into one, retracting both', () => {
    const out = addToSessions(frozen([s(0, 10, 2), s(14, 24, 3), s(40, 50, 1)]), 10, 5, 1, add);
    expect(out).toEqual({
      sessions: [s(0, 24, 6), s(40, 50, 1)],
      merged: [
        { start: 0, end: 10 },
        { start: 14, end: 24 },
      ],
      window: { start: 0, end: 24 },
    });
  });

  it('merges the absorbed accumulators in window order, then the record', () => {
    const c = collect<string>();
    const sessions = frozen([
      { window: { start: 0, end: 10 }, acc: ['a', 'b'] },
      { window: { start: 12, end: 22 }, acc: ['c'] },
    ]);
    expect(addToSessions(sessions, 10, 5, ['d'], (a, b) => c.merge(a, b)).sessions).toEqual([{ window: { start: 0, end: 22 }, acc: ['a', 'b', 'c', 'd'] }]);
  });

  it('does not change its input', () => {
    const input = [s(0, 10, 2), s(14, 24, 3)];
    const copy = structuredClone(input);
    addToSessions(frozen(input), 11, 5, 1, add);
    expect(input).toEqual(copy);
  });

  it.each([
    ['a NaN time', Number.NaN, 5, /event time NaN is not a finite number/],
    ['a zero gap', 1, 0, /gap 0 is not a positive finite number/],
    ['a negative gap', 1, -1, /gap -1 /],
    ['an infinite gap', 1, Number.POSITIVE_INFINITY, /gap Infinity /],
  ])('rejects %s with a RangeError', (_what, t, gap, message) => {
    expect(() => addToSessions([], t, gap, 1, add)).toThrow(RangeError);
    expect(() => addToSessions([], t, gap, 1, add)).toThrow(message);
  });

  const times = fc.array(fc.oneof(fc.integer({ min: -60, max: 60 }), fc.double({ min: -60, max: 60, noNaN: true })), { maxLength: 40 });
  const gaps = fc.oneof(fc.integer({ min: 1, max: 15 }), fc.double({ min: 0.5, max: 15, noNaN: true }));

  it('ends with the brute-force sessionization, with per-session count and values, for any arrival order (law)', () => {
    fc.assert(
      fc.property(times, gaps, fc.array(fc.nat()), (ts, gap, order) => {
        // Arrival order: a random permutation of the times.
        const arrivals = ts.map((t, i) => ({ t, rank: order[i] ?? i })).sort((a, b) => a.rank - b.rank).map((a) => a.t);
        const counts = count();
        const values = collect<number>();
        let bySessionCount: readonly Session<number>[] = [];
        let bySessionValues: readonly Session<number[]>[] = [];
        for (const t of arrivals) {
          bySessionCount = frozen(addToSessions(bySessionCount, t, gap, counts.add(counts.create(), t), (a, b) => counts.merge(a, b)).sessions);
          bySessionValues = frozen(addToSessions(bySessionValues, t, gap, values.add(values.create(), t), (a, b) => values.merge(a, b)).sessions);
        }
        const expected = bruteForce(ts, gap);
        expect(bySessionCount).toEqual(expected.map((e) => ({ window: e.window, acc: e.times.length })));
        expect(bySessionValues.map((e) => ({ window: e.window, acc: [...e.acc].sort((a, b) => a - b) }))).toEqual(expected.map((e) => ({ window: e.window, acc: e.times })));
      }),
    );
  });

  it('keeps sessions sorted and apart, and reports exactly the windows that changed, at every step (law)', () => {
    fc.assert(
      fc.property(times, gaps, (ts, gap) => {
        let sessions: readonly Session<number>[] = [];
        for (const t of ts) {
          const out = addToSessions(sessions, t, gap, 1, add);
          const before = sessions.map((x) => x.window);
          const after = out.sessions.map((x) => x.window);
          expect(windowContains(out.window, t)).toBe(true);
          expect(after).toContainEqual(out.window);
          after.forEach((w, i) => {
            const next = after[i + 1];
            if (next !== undefined) expect(w.end).toBeLessThan(next.start);
          });
          // Old windows minus the retracted ones are the new windows minus the record's one.
          const other = (ws: TimeWindow[]): TimeWindow[] => ws.filter((w) => compareWindows(w, out.window) !== 0).sort(compareWindows);
          expect(other(before.filter((w) => !out.merged.some((m) => compareWindows(m, w) === 0)))).toEqual(other(after));
          expect(out.merged).not.toContainEqual(out.window);
          for (const m of out.merged) expect(before).toContainEqual(m);
          expect(out.sessions.reduce((n, x) => n + x.acc, 0)).toBe(sessions.reduce((n, x) => n + x.acc, 0) + 1);
          sessions = frozen(out.sessions);
        }
      }),
    );
  });
});
