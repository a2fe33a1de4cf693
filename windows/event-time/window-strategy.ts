import { checkStateValue, decodeKey, encodeKey, KeyMap, type StoreKey } from 'sluice/extend';
import type { Key } from 'sluice';
import type { Aggregator } from './aggregator.js';
import { COUNT, numericTermOf } from './aggregators.js';
import type { LiveWindows } from './live-windows.js';
import { combinePanes, slidePanes } from './pane-combine.js';
import { addToSessions, type Session } from './session-merge.js';
import { windowContains, windowStartFor, type TimeWindow } from './time-window.js';
import type { WindowAssigner } from './window-assigner.js';
import type { WindowTable } from './window-table.js';
import { paneRow, sessionRow, windowRow, type ParsedRow } from './window-rows.js';

/** What the operator is told of the windows a record changed (in the modes that emit changes). */
export interface WindowChanges {
  /**
   * Window `w` of `key` has a new result. `opened`: `w` did not exist before this record (a new
   * session, or one a merge or an extension made); only session windows tell it.
   */
  changed(key: Key, w: TimeWindow, opened: boolean): void;
  /** Session `w` of `key` no longer exists: the record merged it into, or extended it to, another. */
  removed(key: Key, w: TimeWindow): void;
}

/** The operator's {@link WindowChanges}, or `undefined` when its output mode does not need them. */
export type OnChanged = WindowChanges | undefined;

/** Where an entry of the window table lives: its slot and key. */
export interface TableEntry {
  readonly slot: number;
  readonly key: Key;
}

/**
 * How one kind of window keeps its accumulators in the {@link WindowTable}: one entry per window
 * (tumbling and calendar: the slot is the window's start), one per pane (sliding: the slot is the
 * pane's start; each record touches one pane), or one list of sessions per key (slot 0). The
 * operator drives it; the strategy knows the entries, and tells `live` which windows opened and
 * which sessions merged away. `rowOf` and `entryOf` map entries to the store's rows and back
 * (see window-rows.ts), for a store that keeps state on disk.
 */
export interface WindowStrategy {
  /**
   * Whether every window a record of `key` at `t` would belong to, or merge into, has closed
   * (`isPassed(w, closedUpTo)`), given the key's windows in the table. Called after the closed
   * windows were evicted: every window in the table is open.
   */
  isLate(table: WindowTable, key: Key, t: number, closedUpTo: number): boolean;
  /**
   * Adds `value` (at `t`, not late) to its windows still open at `closedUpTo`, marks new windows
   * live (unless `slotWindow` is present), and reports every window whose result changed, and
   * every session merged away, to `changed` when given.
   */
  add(table: WindowTable, key: Key, t: number, value: unknown, closedUpTo: number, live: LiveWindows, changed: OnChanged): void;
  /**
   * `add` unless the record is late (`isLate`): the per-record call of the strategies whose
   * lateness needs no state (`lateNeedsState` false). Returns whether it added the record.
   */
  addIfOpen(table: WindowTable, key: Key, t: number, value: unknown, closedUpTo: number, live: LiveWindows, changed: OnChanged): boolean;
  /**
   * Whether event time `time` (a watermark, or a watermark minus the allowed lateness) has passed
   * window `w`: `w.end <= time`, or for sessions `w.end < time` (a record at `t = end` still joins
   * a session). A window is due (fires on time) when the watermark has passed it, and closed
   * (final, evicted; records for it are late) when the watermark minus the lateness has.
   */
  isPassed(w: TimeWindow, time: number): boolean;
  /** The accumulator of live window `w` of `key`. */
  accumulatorOf(table: WindowTable, key: Key, w: TimeWindow): unknown;
  /** Removes window `w` of `key` from the table; the operator forgets it in `live`. */
  evict(table: WindowTable, key: Key, w: TimeWindow): void;
  /** Marks live the windows that table entry `[slot, key]` with `value` stands for, `closedUpTo` being the last batch's. */
  restore(slot: number, key: Key, value: unknown, closedUpTo: number, live: LiveWindows): void;
  /** The store row of table entry `[slot, key]`. */
  rowOf(slot: number, key: Key): StoreKey;
  /** The table entry a store row holds, or `undefined` for a row that is not one of this strategy's entries. */
  entryOf(row: ParsedRow): TableEntry | undefined;
  /** A table entry's value with each accumulator it holds replaced by `map(acc)` (to migrate them). */
  mapAccumulators(value: unknown, map: (acc: unknown) => unknown): unknown;
  /**
   * Optional, for windows that share state (panes): hands the accumulator of each of `windows`
   * (all of `key`, ascending by end, overlapping one the next) to `result` when given, then
   * evicts them all; as `accumulatorOf` and `evict` window by window, with less work.
   */
  closeRun?(table: WindowTable, key: Key, windows: readonly TimeWindow[], live: LiveWindows, result: ((i: number, acc: unknown) => void) | undefined): void;
  /**
   * Present when each slot holds one window (tumbling, calendar): the window of `slot`. The
   * table's slots are then the live windows: `add` does not mark them in `live`, and the
   * operator closes whole slots.
   */
  readonly slotWindow?: (slot: number) => TimeWindow;
  /** Whether `isLate` looks at the state (sessions): then a key's records must all be judged before any is added. */
  readonly lateNeedsState: boolean;
  /** Optional: forgets what the strategy derived from the table (called when the table was rolled back or loaded). */
  reset?(): void;
}

type Agg = Aggregator<unknown, unknown, unknown>;

/** A pane not read from the table yet (see `closeRun`). */
const UNREAD: unique symbol = Symbol('unread');

function checked(acc: unknown): unknown {
  checkStateValue(acc, 'window accumulator');
  return acc;
}

/** One entry per window, in the slot of its start: tumbling and calendar windows (each time in exactly one window). */
export function fixedWindows(windowOf: (t: number) => TimeWindow, agg: Agg): WindowStrategy {
  // Records mostly arrive in order, so most fall in the window of the one before.
  const addTo = (before: unknown, value: unknown): unknown => checked(agg.add(before ?? agg.create(), value));
  // count and sum: `acc + term` in the table, no call of the aggregator and no check (a number is a state value).
  const term = numericTermOf(agg);
  const addValue: (table: WindowTable, slot: number, key: Key, value: unknown) => void =
    term === undefined
      ? (table, slot, key, value) => { table.merge(slot, key, value, addTo); }
      : term === COUNT
        ? (table, slot, key) => { table.increment(slot, key, 1); }
        : (table, slot, key, value) => { table.increment(slot, key, term(value)); };
  // The last two windows looked up: out-of-order records near a window's start alternate between it and the one before.
  let last: TimeWindow = { start: 0, end: 0 };
  let previous = last;
  const windowFor = (t: number): TimeWindow => {
    if (windowContains(last, t)) return last;
    const w = windowContains(previous, t) ? previous : windowOf(t);
    previous = last;
    last = w;
    return w;
  };
  return {
    lateNeedsState: false,
    isLate: (_table, _key, t, closedUpTo) => windowFor(t).end <= closedUpTo,
    add(table, key, t, value, _closedUpTo, _live, changed) {
      const w = windowFor(t);
      addValue(table, w.start, key, value);
      changed?.changed(key, w, false);
    },
    addIfOpen(table, key, t, value, closedUpTo, _live, changed) {
      const w = windowFor(t);
      if (w.end <= closedUpTo) return false;
      addValue(table, w.start, key, value);
      changed?.changed(key, w, false);
      return true;
    },
    slotWindow: (slot) => windowFor(slot),
    isPassed: (w, time) => w.end <= time,
    accumulatorOf: (table, key, w) => table.get(w.start, key),
    evict(table, key, w) {
      table.delete(w.start, key);
    },
    restore() {
      // The table's slots are the live windows.
    },
    rowOf: (slot, key) => windowRow(encodeKey(key), windowFor(slot)),
    mapAccumulators: (value, map) => map(value),
    entryOf: (row) => (row.kind === 'window' ? { slot: row.window.start, key: decodeKey(row.key) } : undefined),
  };
}

/** Sliding windows over panes of gcd(size, slide): a record updates one pane; windows combine panes. */
export function paneWindows(assigner: Extract<WindowAssigner, { kind: 'sliding' }>, agg: Agg): WindowStrategy {
  const { size, slide, offset, pane: paneMs } = assigner;
  /** The end of the last window that holds time `t` (windows are ascending: the last ends latest). */
  const lastEnd = (t: number): number => windowStartFor(t, offset, slide) + size;
  const openWindows = (pane: number, closedUpTo: number, each: (w: TimeWindow) => void): void => {
    for (const w of assigner.windowsOfPane(pane)) if (w.end > closedUpTo) each(w);
  };
  /**
   * Marks live the open windows of a key's new pane that no other pane of the key is in: those
   * starting after the key's nearest pane below (`q`) and at or before `r - size`, `r` being its
   * nearest pane above. Records mostly come in order, so `q` is usually the pane just below and
   * there is one window to mark, not `size / slide`. The pane's closed windows were emitted and
   * evicted already: the record is in the open ones only.
   */
  /**
   * With an inverse, per key the accumulator of its earliest open window, kept up to date as
   * records arrive: a run of closing windows starts from it instead of combining `size / pane`
   * panes. Derived from the panes (equal up to the aggregator's rounding), and forgotten when
   * the table is rolled back or loaded (`reset`); a key's entry goes when its next window has no
   * records.
   */
  let earliest = agg.inverse === undefined ? undefined : new KeyMap<Key, { start: number; acc: unknown }>();
  const markNewWindows = (table: WindowTable, key: Key, pane: number, closedUpTo: number, live: LiveWindows): void => {
    let after = pane - size;
    for (let q = pane - paneMs; q > pane - size; q -= paneMs) {
      if (table.get(q, key) !== undefined) {
        after = q;
        break;
      }
    }
    let upTo = pane;
    const highest = Math.min(table.highestSlot, pane + size - paneMs);
    for (let r = pane + paneMs; r <= highest; r += paneMs) {
      if (table.get(r, key) !== undefined) {
        upTo = r - size;
        break;
      }
    }
    for (let start = windowStartFor(upTo, offset, slide); start > after && start + size > closedUpTo; start -= slide) live.add(key, { start, end: start + size });
  };
  return {
    lateNeedsState: false,
    isLate: (_table, _key, t, closedUpTo) => lastEnd(t) <= closedUpTo,
    add(table, key, t, value, closedUpTo, live, changed) {
      const pane = assigner.paneOf(t);
      const before = table.get(pane, key);
      if (before === undefined) markNewWindows(table, key, pane, closedUpTo, live);
      table.set(pane, key, checked(agg.add(before ?? agg.create(), value)));
      if (earliest !== undefined) {
        const e = earliest.get(key);
        if (e !== undefined && pane >= e.start && pane < e.start + size) e.acc = agg.add(e.acc, value);
      }
      if (changed !== undefined) openWindows(pane, closedUpTo, (w) => { changed.changed(key, w, false); });
    },
    addIfOpen(table, key, t, value, closedUpTo, live, changed) {
      if (lastEnd(t) <= closedUpTo) return false;
      this.add(table, key, t, value, closedUpTo, live, changed);
      return true;
    },
    isPassed: (w, time) => w.end <= time,
    accumulatorOf: (table, key, w) => combinePanes(assigner.panesOf(w).map((pane) => table.get(pane, key)), agg),
    evict(table, key, w) {
      // A pane goes with the last window that needs it.
      for (const pane of assigner.panesOf(w)) if (lastEnd(pane) <= w.end) table.delete(pane, key);
    },
    restore(slot, key, _value, closedUpTo, live) {
      openWindows(slot, closedUpTo, (w) => { live.add(key, w); });
    },
    rowOf: (slot, key) => paneRow(encodeKey(key), slot),
    mapAccumulators: (value, map) => map(value),
    entryOf: (row) => (row.kind === 'pane' ? { slot: row.pane, key: decodeKey(row.key) } : undefined),
    // A key's windows closing together overlap: read each pane once, and with an inverse slide
    // from one window to the next (two panes a slide instead of size / pane).
    closeRun(table, key, windows, live, result) {
      const first = (windows[0] as TimeWindow).start;
      const last = windows[windows.length - 1] as TimeWindow;
      const next = { start: last.start + slide, end: last.end + slide };
      // The panes from the run's first to the window after it, each read from the table when first needed.
      const values: unknown[] = new Array<unknown>((next.end - first) / paneMs).fill(UNREAD);
      const valueOf = (pane: number): unknown => {
        const i = (pane - first) / paneMs;
        if (values[i] === UNREAD) values[i] = table.get(pane, key);
        return values[i];
      };
      const panes = (from: number, to: number): unknown[] => {
        const out: unknown[] = [];
        for (let pane = from; pane < to; pane += paneMs) out.push(valueOf(pane));
        return out;
      };
      const cached = earliest?.get(key);
      let acc: unknown;
      let previous: TimeWindow | undefined;
      for (let i = 0; i < windows.length; i++) {
        const w = windows[i] as TimeWindow;
        if (result !== undefined) {
          if (previous === undefined && cached?.start === w.start) acc = cached.acc;
          else if (previous !== undefined && agg.inverse !== undefined && w.start > previous.start && w.start < previous.end) acc = slidePanes(acc, panes(previous.start, w.start), panes(previous.end, w.end), agg);
          else acc = combinePanes(panes(w.start, w.end), agg);
          result(i, acc);
        }
        // A pane goes with the last window that needs it: the first panes of `w`, up to the next
        // window's start (read first: a later slide may need them).
        for (let pane = w.start; pane < w.end && lastEnd(pane) <= w.end; pane += paneMs) {
          valueOf(pane);
          table.delete(pane, key);
        }
        previous = w;
      }
      if (earliest === undefined) return;
      // The window after the run is now the key's earliest open one, if it has records (is live).
      if (result === undefined || !live.has(key, next)) {
        earliest.delete(key);
        earliest.compact();
      } else {
        earliest.set(key, { start: next.start, acc: slidePanes(acc, panes(last.start, next.start), panes(last.end, next.end), agg) });
      }
    },
    reset() {
      if (earliest !== undefined) earliest = new KeyMap();
    },
  };
}

/** Session windows: per key (slot 0), a sorted list of sessions that a record can extend or bridge. */
export function sessionWindows(gapOf: (key: Key) => number, agg: Agg): WindowStrategy {
  const SLOT = 0;
  const sessionsOf = (table: WindowTable, key: Key): Session<unknown>[] => (table.get(SLOT, key) as Session<unknown>[] | undefined) ?? [];
  return {
    lateNeedsState: true,
    isLate(table, key, t, closedUpTo) {
      const end = t + gapOf(key);
      // The record's own session [t, end) closes by the rule of isPassed; the table's sessions
      // are all open (closed ones are evicted first): meeting one (touching included) is not late.
      return end < closedUpTo && !sessionsOf(table, key).some((s) => s.window.start <= end && s.window.end >= t);
    },
    add(table, key, t, value, _closedUpTo, live, changed) {
      const before = sessionsOf(table, key);
      const result = addToSessions(before, t, gapOf(key), agg.add(agg.create(), value), (a, b) => agg.merge(a, b));
      for (const w of result.merged) live.remove(key, w);
      live.add(key, result.window);
      checkStateValue(result.sessions, 'session accumulators');
      table.set(SLOT, key, result.sessions);
      if (changed === undefined) return;
      for (const w of result.merged) changed.removed(key, w);
      changed.changed(key, result.window, result.merged.length > 0 || result.sessions.length > before.length);
    },
    addIfOpen(table, key, t, value, closedUpTo, live, changed) {
      if (this.isLate(table, key, t, closedUpTo)) return false;
      this.add(table, key, t, value, closedUpTo, live, changed);
      return true;
    },
    // A record at t = end still joins a session (touching sessions merge) and is not late while
    // the watermark is at end: the session is final only once the watermark has passed its end.
    isPassed: (w, time) => w.end < time,
    accumulatorOf: (table, key, w) => sessionsOf(table, key).find((s) => s.window.start === w.start && s.window.end === w.end)?.acc,
    evict(table, key, w) {
      const rest = sessionsOf(table, key).filter((s) => s.window.start !== w.start || s.window.end !== w.end);
      if (rest.length === 0) table.delete(SLOT, key);
      else table.set(SLOT, key, rest);
    },
    restore(_slot, key, value, _closedUpTo, live) {
      for (const s of value as Session<unknown>[]) live.add(key, s.window);
    },
    rowOf: (_slot, key) => sessionRow(encodeKey(key)),
    mapAccumulators: (value, map) => (value as Session<unknown>[]).map((s) => ({ window: s.window, acc: map(s.acc) })),
    entryOf: (row) => (row.kind === 'sessions' ? { slot: SLOT, key: decodeKey(row.key) } : undefined),
  };
}

/** The strategy for an assigner. */
export function strategyFor(assigner: WindowAssigner, agg: Agg): WindowStrategy {
  switch (assigner.kind) {
    case 'tumbling':
    case 'calendar':
      return fixedWindows((t) => assigner.windowOf(t), agg);
    case 'sliding':
      return paneWindows(assigner, agg);
    case 'session':
      return sessionWindows((key) => assigner.gapOf(key), agg);
  }
}
