import type { TimeWindow } from './time-window.js';

/** One session of a key: its window and the accumulator of the records in it. */
export interface Session<A> {
  readonly window: TimeWindow;
  readonly acc: A;
}

/** What {@link addToSessions} returns. */
export interface SessionUpdate<A> {
  /** The key's sessions after the record: sorted by start, pairwise apart (see {@link addToSessions}). */
  readonly sessions: Session<A>[];
  /**
   * The old windows that no longer exist because the record's session absorbed them, ascending:
   * retract their results and drop their state. Never holds `window`; empty when the record
   * opened a new session or fell inside one without moving its bounds.
   */
  readonly merged: TimeWindow[];
  /** The session window the record ended up in. */
  readonly window: TimeWindow;
}

/**
 * Adds a record at event time `t` to one key's sessions. The record opens the window
 * `[t, t + gap)`, which absorbs every session it intersects, touching ones included: as Flink's
 * `TimeWindow.intersects` (`start <= other.end && end >= other.start`), `[0, 10)` and `[10, 20)`
 * merge into `[0, 20)`. A record can so bridge two or more sessions into one. The sessions that
 * result are the same for any arrival order of the same records (as long as each key's gap is
 * the same for every record), and are pairwise apart: one ends strictly before the next starts.
 *
 * The inputs are not changed. The merged accumulator is
 * `merge(merge(absorbed in window order...), acc)`: the record's accumulator comes last, so an
 * aggregator that keeps arrival order (`collect`) sees records in arrival order while one session
 * only grows, and the absorbed sessions' records in window order when sessions join.
 *
 * @param sessions - the key's sessions, sorted by start and pairwise apart (as returned before).
 * @param t - the record's event time (ms).
 * @param gap - the key's session gap (ms), positive.
 * @param acc - the accumulator of the record alone (`agg.add(agg.create(), value)`).
 * @param merge - combines two accumulators (`agg.merge`); must not change its arguments.
 * @throws RangeError when `t` is not finite or `gap` is not a positive finite number.
 * @example addToSessions([{ window: { start: 0, end: 10 }, acc: 1 }], 12, 10, 1, (a, b) => a + b)
 *   // { sessions: [{ window: { start: 0, end: 22 }, acc: 2 }], merged: [{ start: 0, end: 10 }], window: { start: 0, end: 22 } }
 */
export function addToSessions<A>(
  sessions: readonly Session<A>[],
  t: number,
  gap: number,
  acc: A,
  merge: (a: A, b: A) => A,
): SessionUpdate<A> {
  if (!Number.isFinite(t)) throw new RangeError(`addToSessions: event time ${t} is not a finite number.`);
  if (!(gap > 0) || !Number.isFinite(gap)) throw new RangeError(`addToSessions: gap ${gap} is not a positive finite number of milliseconds.`);
  const end = t + gap;
  // Sessions are sorted and apart, so their ends ascend too: the ones the new window
  // [t, end] intersects are the run from the first that ends at or after t to the last that
  // starts at or before end.
  const from = firstIndex(sessions, (s) => s.window.end >= t);
  const to = firstIndex(sessions, (s) => s.window.start > end);
  const absorbed = sessions.slice(from, to);
  let window: TimeWindow = { start: t, end };
  for (const s of absorbed) {
    window = { start: Math.min(window.start, s.window.start), end: Math.max(window.end, s.window.end) };
  }
  const joined = absorbed.length === 0 ? acc : merge(absorbed.map((s) => s.acc).reduce((a, b) => merge(a, b)), acc);
  const [only] = absorbed;
  const unchanged = absorbed.length === 1 && only !== undefined && only.window.start === window.start && only.window.end === window.end;
  return {
    sessions: [...sessions.slice(0, from), { window, acc: joined }, ...sessions.slice(to)],
    merged: unchanged ? [] : absorbed.map((s) => s.window),
    window,
  };
}

/** The first index whose session satisfies `test`, or the length; `test` must be monotone. */
function firstIndex<A>(sessions: readonly Session<A>[], test: (s: Session<A>) => boolean): number {
  let lo = 0;
  let hi = sessions.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const session = sessions[mid];
    if (session !== undefined && test(session)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
