import { encodeKey } from 'sluice/extend';
import type { Key } from 'sluice';
import { sortWindows, type KeyedWindow } from './live-windows.js';
import type { TimeWindow } from './time-window.js';
import type { WindowChanges } from './window-strategy.js';

/**
 * The windows one batch's records changed, and the emitted sessions they removed: what the
 * output modes that emit changes (`'update'`, `'onTimeAndLate'`) emit after the records are
 * added, and which earlier results they retract.
 *
 * A removed session is retracted only when a batch before this one emitted it
 * (`emittedBefore`): a session that opened in this batch and was merged or extended in it too
 * was never emitted, so there is nothing to retract.
 */
export class BatchChanges implements WindowChanges {
  readonly #changed = new Map<string, KeyedWindow>();
  /** The windows (ids) that opened in this batch. */
  readonly #opened = new Set<string>();
  readonly #retracted: KeyedWindow[] = [];
  readonly #emittedBefore: (w: TimeWindow) => boolean;

  /** @param emittedBefore - whether a window that was live when the batch started had been emitted. */
  constructor(emittedBefore: (w: TimeWindow) => boolean) {
    this.#emittedBefore = emittedBefore;
  }

  changed(key: Key, w: TimeWindow, opened: boolean): void {
    const id = idOf(key, w);
    if (!this.#changed.has(id)) this.#changed.set(id, { key, window: w });
    if (opened) this.#opened.add(id);
  }

  removed(key: Key, w: TimeWindow): void {
    const id = idOf(key, w);
    this.#changed.delete(id);
    if (this.#opened.delete(id)) return;
    if (this.#emittedBefore(w)) this.#retracted.push({ key, window: w });
  }

  /** The windows whose result changed and that still exist, in the order they first changed. */
  windows(): KeyedWindow[] {
    return [...this.#changed.values()];
  }

  /** The removed windows to retract, in the defined order (by end, start, key hash, key encoding). */
  retractions(): KeyedWindow[] {
    return sortWindows(this.#retracted);
  }
}

function idOf(key: Key, w: TimeWindow): string {
  return `${encodeKey(key)}\u0000${w.start}\u0000${w.end}`;
}
