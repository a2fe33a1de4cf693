import { checkStateValue, type StateStore, type StoreKey } from 'sluice/state';
import type { Key } from 'sluice';
import type { Aggregator } from './aggregator.js';
import { combinePanes } from './pane-combine.js';
import { addToSessions, type Session } from './session-merge.js';
import type { TimeWindow } from './time-window.js';
import type { WindowAssigner } from './window-assigner.js';
import { indexRow, paneRow, sessionRow, windowRow } from './window-rows.js';

/**
 * How one kind of window keeps its accumulators in the store: one row per window (tumbling and
 * calendar), one per pane (sliding: each record touches one pane), or one list of sessions per
 * key. The operator drives it; the strategy knows the rows.
 */
export interface WindowStrategy {
  /** The rows to load before adding a record of `key` at `t`. */
  rowsForRecord(key: StoreKey, t: number): StoreKey[];
  /**
   * Whether every window a record of `key` at `t` would belong to has closed (`end <=
   * closedUpTo`). Called after the closed windows were evicted and the record's rows loaded, and
   * before any record of the batch is added.
   */
  isLate(store: StateStore, key: StoreKey, decodedKey: Key, t: number, closedUpTo: number): boolean;
  /**
   * Adds `value` (at `t`, not late) to its windows still open at `closedUpTo` and reports every
   * window whose result changed.
   */
  add(store: StateStore, key: StoreKey, decodedKey: Key, t: number, value: unknown, closedUpTo: number, changed: (w: TimeWindow) => void): void;
  /** Whether live window `w` is final at `closedUpTo` (to emit and evict), given that `w.end <= closedUpTo`. */
  isClosed(w: TimeWindow, closedUpTo: number): boolean;
  /** The rows to load to read or evict window `w` of `key`. */
  rowsForWindow(key: StoreKey, w: TimeWindow): StoreKey[];
  /** The accumulator of window `w` of `key` (rows loaded). */
  accumulatorOf(store: StateStore, key: StoreKey, w: TimeWindow): unknown;
  /** Removes window `w` of `key` and its index row (rows loaded). */
  evict(store: StateStore, key: StoreKey, w: TimeWindow): void;
}

type Agg = Aggregator<unknown, unknown, unknown>;

function put(store: StateStore, row: StoreKey, acc: unknown): void {
  checkStateValue(acc, 'window accumulator');
  store.put(row, acc);
}

/** One row per window: tumbling and calendar windows (each time in exactly one window). */
export function fixedWindows(windowOf: (t: number) => TimeWindow, agg: Agg): WindowStrategy {
  return {
    rowsForRecord: (key, t) => [windowRow(key, windowOf(t))],
    isLate: (_store, _key, _decoded, t, closedUpTo) => windowOf(t).end <= closedUpTo,
    add(store, key, _decoded, t, value, _closedUpTo, changed) {
      const w = windowOf(t);
      const row = windowRow(key, w);
      const before = store.get(row);
      if (before === undefined) store.put(indexRow(key, w), 1);
      put(store, row, agg.add(before ?? agg.create(), value));
      changed(w);
    },
    isClosed: () => true,
    rowsForWindow: (key, w) => [windowRow(key, w)],
    accumulatorOf: (store, key, w) => store.get(windowRow(key, w)),
    evict(store, key, w) {
      store.delete(windowRow(key, w));
      store.delete(indexRow(key, w));
    },
  };
}

/** Sliding windows over panes of gcd(size, slide): a record updates one pane; windows combine panes. */
export function paneWindows(assigner: Extract<WindowAssigner, { kind: 'sliding' }>, agg: Agg): WindowStrategy {
  const lastEnd = (pane: number): number => Math.max(...assigner.windowsOfPane(pane).map((w) => w.end));
  return {
    rowsForRecord: (key, t) => [paneRow(key, assigner.paneOf(t))],
    isLate: (_store, _key, _decoded, t, closedUpTo) => assigner.windowsOf(t).every((w) => w.end <= closedUpTo),
    add(store, key, _decoded, t, value, closedUpTo, changed) {
      const pane = assigner.paneOf(t);
      const row = paneRow(key, pane);
      const before = store.get(row);
      // The pane's closed windows were emitted and evicted already: the record is in the open ones only.
      const windows = assigner.windowsOfPane(pane).filter((w) => w.end > closedUpTo);
      if (before === undefined) for (const w of windows) store.put(indexRow(key, w), 1);
      put(store, row, agg.add(before ?? agg.create(), value));
      for (const w of windows) changed(w);
    },
    isClosed: () => true,
    rowsForWindow: (key, w) => assigner.panesOf(w).map((pane) => paneRow(key, pane)),
    accumulatorOf: (store, key, w) => combinePanes(assigner.panesOf(w).map((pane) => store.get(paneRow(key, pane))), agg),
    evict(store, key, w) {
      store.delete(indexRow(key, w));
      // A pane goes with the last window that needs it.
      for (const pane of assigner.panesOf(w)) if (lastEnd(pane) <= w.end) store.delete(paneRow(key, pane));
    },
  };
}

/** Session windows: per key, a sorted list of sessions that a record can extend or bridge. */
export function sessionWindows(gapOf: (key: Key) => number, agg: Agg): WindowStrategy {
  const sessionsOf = (store: StateStore, key: StoreKey): Session<unknown>[] => (store.get(sessionRow(key)) as Session<unknown>[] | undefined) ?? [];
  return {
    rowsForRecord: (key) => [sessionRow(key)],
    isLate(store, key, decodedKey, t, closedUpTo) {
      const end = t + gapOf(decodedKey);
      // Live sessions all end at or after closedUpTo (closed ones are evicted first): joining one is not late.
      return end <= closedUpTo && !sessionsOf(store, key).some((s) => s.window.start <= end && s.window.end >= t);
    },
    add(store, key, decodedKey, t, value, _closedUpTo, changed) {
      const before = sessionsOf(store, key);
      const result = addToSessions(before, t, gapOf(decodedKey), agg.add(agg.create(), value), (a, b) => agg.merge(a, b));
      for (const w of result.merged) store.delete(indexRow(key, w));
      store.put(indexRow(key, result.window), 1);
      checkStateValue(result.sessions, 'session accumulators');
      store.put(sessionRow(key), result.sessions);
      changed(result.window);
    },
    // A record at t = end still joins a session (touching sessions merge) and is not late while
    // the watermark is at end: the session is final only once the watermark has passed its end.
    isClosed: (w, closedUpTo) => w.end < closedUpTo,
    rowsForWindow: (key) => [sessionRow(key)],
    accumulatorOf: (store, key, w) => sessionsOf(store, key).find((s) => s.window.start === w.start && s.window.end === w.end)?.acc,
    evict(store, key, w) {
      const rest = sessionsOf(store, key).filter((s) => s.window.start !== w.start || s.window.end !== w.end);
      store.delete(indexRow(key, w));
      if (rest.length === 0) store.delete(sessionRow(key));
      else store.put(sessionRow(key), rest);
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
