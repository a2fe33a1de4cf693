import { checkStateValue, type StateStore, type StoreKey } from 'sluice/state';
import type { Key } from 'sluice';
import type { Aggregator } from './aggregator.js';
import type { LiveWindows } from './live-windows.js';
import { combinePanes, slidePanes } from './pane-combine.js';
import { addToSessions, type Session } from './session-merge.js';
import { windowContains, windowStartFor, type TimeWindow } from './time-window.js';
import type { WindowAssigner } from './window-assigner.js';
import { paneRow, sessionRow, windowRow, type ParsedRow } from './window-rows.js';

/** Called with each window whose result a record changed (update mode only). */
export type OnChanged = ((w: TimeWindow) => void) | undefined;

/**
 * How one kind of window keeps its accumulators in the store: one row per window (tumbling and
 * calendar), one per pane (sliding: each record touches one pane), or one list of sessions per
 * key. The operator drives it; the strategy knows the rows, and tells `live` which windows
 * opened and which sessions merged away.
 */
export interface WindowStrategy {
  /** The row to load before adding a record of `key` at `t`. */
  rowForRecord(key: StoreKey, t: number): StoreKey;
  /**
   * Whether every window a record of `key` at `t` would belong to has closed (`end <=
   * closedUpTo`). Called after the closed windows were evicted and the record's rows loaded, and
   * before any record of the batch is added.
   */
  isLate(store: StateStore, key: StoreKey, decodedKey: Key, t: number, closedUpTo: number): boolean;
  /**
   * Adds `value` (at `t`, not late) to its windows still open at `closedUpTo`, marks new windows
   * live, and reports every window whose result changed to `changed` when given. `row` is
   * `rowForRecord(key, t)`.
   */
  add(store: StateStore, row: StoreKey, key: StoreKey, decodedKey: Key, t: number, value: unknown, closedUpTo: number, live: LiveWindows, changed: OnChanged): void;
  /** Whether live window `w` is final at `closedUpTo` (to emit and evict), given that `w.end <= closedUpTo`. */
  isClosed(w: TimeWindow, closedUpTo: number): boolean;
  /** The rows to load to read or evict window `w` of `key`. */
  rowsForWindow(key: StoreKey, w: TimeWindow): StoreKey[];
  /** The accumulator of window `w`, from its `rows` (`rowsForWindow(key, w)`, loaded). */
  accumulatorOf(store: StateStore, rows: readonly StoreKey[], w: TimeWindow): unknown;
  /** Removes window `w` from the store, given its `rows` (loaded); the operator forgets it in `live`. */
  evict(store: StateStore, rows: readonly StoreKey[], w: TimeWindow): void;
  /** Marks live the windows a stored row stands for, `closedUpTo` being the last batch's. */
  restore(row: ParsedRow, value: unknown, closedUpTo: number, live: LiveWindows): void;
  /**
   * Optional, for windows that share state (panes): the rows to load to close `windows`, all of
   * one key and ascending by end, together.
   */
  rowsForRun?(key: StoreKey, windows: readonly TimeWindow[]): StoreKey[];
  /**
   * Optional, with `rowsForRun`: hands the accumulator of each of `windows` (`rows` loaded) to
   * `result` when given, then evicts them all; as `accumulatorOf` and `evict` window by window,
   * with less work.
   */
  closeRun?(store: StateStore, windows: readonly TimeWindow[], rows: readonly StoreKey[], result: ((i: number, acc: unknown) => void) | undefined): void;
}

type Agg = Aggregator<unknown, unknown, unknown>;

function put(store: StateStore, row: StoreKey, acc: unknown): void {
  checkStateValue(acc, 'window accumulator');
  store.put(row, acc);
}

/** One row per window: tumbling and calendar windows (each time in exactly one window). */
export function fixedWindows(windowOf: (t: number) => TimeWindow, agg: Agg): WindowStrategy {
  // Records mostly arrive in order, so most fall in the window of the one before.
  let last: TimeWindow = { start: 0, end: 0 };
  const windowFor = (t: number): TimeWindow => (windowContains(last, t) ? last : (last = windowOf(t)));
  return {
    rowForRecord: (key, t) => windowRow(key, windowFor(t)),
    isLate: (_store, _key, _decoded, t, closedUpTo) => windowFor(t).end <= closedUpTo,
    add(store, row, key, _decoded, t, value, _closedUpTo, live, changed) {
      const w = windowFor(t);
      const before = store.get(row);
      if (before === undefined) live.add(key, w);
      put(store, row, agg.add(before ?? agg.create(), value));
      changed?.(w);
    },
    isClosed: () => true,
    rowsForWindow: (key, w) => [windowRow(key, w)],
    accumulatorOf: (store, rows) => store.get(rows[0] as StoreKey),
    evict(store, rows) {
      store.delete(rows[0] as StoreKey);
    },
    restore(row, _value, _closedUpTo, live) {
      if (row.kind === 'window') live.add(row.key, row.window);
    },
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
  return {
    rowForRecord: (key, t) => paneRow(key, assigner.paneOf(t)),
    isLate: (_store, _key, _decoded, t, closedUpTo) => lastEnd(t) <= closedUpTo,
    add(store, row, key, _decoded, t, value, closedUpTo, live, changed) {
      const pane = assigner.paneOf(t);
      const before = store.get(row);
      // The pane's closed windows were emitted and evicted already: the record is in the open ones only.
      if (before === undefined) openWindows(pane, closedUpTo, (w) => { live.add(key, w); });
      put(store, row, agg.add(before ?? agg.create(), value));
      if (changed !== undefined) openWindows(pane, closedUpTo, changed);
    },
    isClosed: () => true,
    rowsForWindow: (key, w) => assigner.panesOf(w).map((pane) => paneRow(key, pane)),
    accumulatorOf: (store, rows) => combinePanes(rows.map((row) => store.get(row)), agg),
    evict(store, rows, w) {
      // A pane goes with the last window that needs it (rows are the window's panes, ascending).
      assigner.panesOf(w).forEach((pane, i) => {
        if (lastEnd(pane) <= w.end) store.delete(rows[i] as StoreKey);
      });
    },
    restore(row, _value, closedUpTo, live) {
      if (row.kind === 'pane') openWindows(row.pane, closedUpTo, (w) => { live.add(row.key, w); });
    },
    // A key's windows closing together overlap: read each pane once, and with an inverse slide
    // from one window to the next (two panes a slide instead of size / pane).
    rowsForRun(key, windows) {
      const rows: StoreKey[] = [];
      const last = windows[windows.length - 1] as TimeWindow;
      for (let pane = (windows[0] as TimeWindow).start; pane < last.end; pane += paneMs) rows.push(paneRow(key, pane));
      return rows;
    },
    closeRun(store, windows, rows, result) {
      const first = (windows[0] as TimeWindow).start;
      const values = rows.map((row) => store.get(row));
      const panes = (from: number, to: number): unknown[] => values.slice((from - first) / paneMs, (to - first) / paneMs);
      let acc: unknown;
      let previous: TimeWindow | undefined;
      windows.forEach((w, i) => {
        if (result !== undefined) {
          acc =
            previous !== undefined && agg.inverse !== undefined && w.start > previous.start && w.start < previous.end
              ? slidePanes(acc, panes(previous.start, w.start), panes(previous.end, w.end), agg)
              : combinePanes(panes(w.start, w.end), agg);
          result(i, acc);
        }
        // A pane goes with the last window that needs it.
        for (let pane = w.start; pane < w.end; pane += paneMs) if (lastEnd(pane) <= w.end) store.delete(rows[(pane - first) / paneMs] as StoreKey);
        previous = w;
      });
    },
  };
}

/** Session windows: per key, a sorted list of sessions that a record can extend or bridge. */
export function sessionWindows(gapOf: (key: Key) => number, agg: Agg): WindowStrategy {
  const sessionsAt = (store: StateStore, rows: readonly StoreKey[]): Session<unknown>[] => (store.get(rows[0] as StoreKey) as Session<unknown>[] | undefined) ?? [];
  const sessionsOf = (store: StateStore, key: StoreKey): Session<unknown>[] => sessionsAt(store, [sessionRow(key)]);
  return {
    rowForRecord: (key) => sessionRow(key),
    isLate(store, key, decodedKey, t, closedUpTo) {
      const end = t + gapOf(decodedKey);
      // Live sessions all end at or after closedUpTo (closed ones are evicted first): joining one is not late.
      return end <= closedUpTo && !sessionsOf(store, key).some((s) => s.window.start <= end && s.window.end >= t);
    },
    add(store, _row, key, decodedKey, t, value, _closedUpTo, live, changed) {
      const before = sessionsOf(store, key);
      const result = addToSessions(before, t, gapOf(decodedKey), agg.add(agg.create(), value), (a, b) => agg.merge(a, b));
      for (const w of result.merged) live.remove(key, w);
      live.add(key, result.window);
      checkStateValue(result.sessions, 'session accumulators');
      store.put(sessionRow(key), result.sessions);
      changed?.(result.window);
    },
    // A record at t = end still joins a session (touching sessions merge) and is not late while
    // the watermark is at end: the session is final only once the watermark has passed its end.
    isClosed: (w, closedUpTo) => w.end < closedUpTo,
    rowsForWindow: (key) => [sessionRow(key)],
    accumulatorOf: (store, rows, w) => sessionsAt(store, rows).find((s) => s.window.start === w.start && s.window.end === w.end)?.acc,
    evict(store, rows, w) {
      const rest = sessionsAt(store, rows).filter((s) => s.window.start !== w.start || s.window.end !== w.end);
      if (rest.length === 0) store.delete(rows[0] as StoreKey);
      else store.put(rows[0] as StoreKey, rest);
    },
    restore(row, value, _closedUpTo, live) {
      if (row.kind === 'sessions') for (const s of value as Session<unknown>[]) live.add(row.key, s.window);
    },
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
