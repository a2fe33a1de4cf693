import type { Key } from 'sluice';
import type { KeyMap } from 'sluice/extend';
import { WindowTable } from './window-table.js';

/**
 * One key's buffered records on one side of an interval join, in arrival order: event times,
 * values, and whether each has matched (1) or not (0). It is also the value of the key's row in
 * the store. Parallel arrays, so that matching reads numbers without touching the values.
 */
export interface Buffered {
  readonly t: number[];
  readonly v: unknown[];
  readonly m: number[];
}

/** The sides of a join, as slots of the table. */
export const LEFT = 0;
export const RIGHT = 1;
export type Side = typeof LEFT | typeof RIGHT;

/**
 * The two sides' buffered records of an interval join, in memory: side → key → {@link Buffered},
 * in a {@link WindowTable} (its slots are the sides), whose undo log rolls back a batch that did
 * not commit. A key's `Buffered` is copied the first time a batch changes it and then changed in
 * place for the rest of the batch (copy on write per batch): the undo log and a store's staged
 * writes keep the object of the batch before, which nothing changes again.
 */
export class JoinBuffer {
  readonly #table = new WindowTable();
  /** The `Buffered`s created by the running batch: changed in place. */
  readonly #owned = new Set<Buffered>();
  /** Per side, a lower bound of the buffered times (so an eviction that has nothing to do costs nothing). */
  readonly #lowest = [Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY];
  #records = 0;

  /** How many records both sides hold. */
  get records(): number {
    return this.#records;
  }

  /** Starts a batch: what the batch before created is no longer changed in place. */
  beginBatch(): void {
    this.#owned.clear();
  }

  /** The records of `key` on `side` (read only), or `undefined`. */
  get(side: Side, key: Key): Buffered | undefined {
    return this.#table.get(side, key) as Buffered | undefined;
  }

  /** The records of `key` on `side`, which the running batch may change (copied first when an earlier batch made them). */
  writable(side: Side, key: Key): Buffered {
    const before = this.#table.get(side, key) as Buffered | undefined;
    if (before !== undefined && this.#owned.has(before)) return before;
    const copy: Buffered = before === undefined ? { t: [], v: [], m: [] } : { t: before.t.slice(), v: before.v.slice(), m: before.m.slice() };
    this.#owned.add(copy);
    this.#table.set(side, key, copy);
    return copy;
  }

  /** Buffers a record of `side`, after the key's others. */
  add(side: Side, key: Key, t: number, value: unknown, matched: number): void {
    const buffered = this.writable(side, key);
    buffered.t.push(t);
    buffered.v.push(value);
    buffered.m.push(matched);
    this.#records++;
    if (t < (this.#lowest[side] as number)) this.#lowest[side] = t;
  }

  /**
   * Removes every record of `side` whose time is below `below`, calling `evicted` with each one
   * (in each key's arrival order; keys in no particular order).
   */
  evict(side: Side, below: number, evicted: ((key: Key, t: number, value: unknown, matched: number) => void) | undefined): void {
    if (below <= (this.#lowest[side] as number)) return;
    const entries = this.#table.entriesOf(side) as KeyMap<Key, Buffered> | undefined;
    if (entries === undefined) return;
    const due: Key[] = [];
    let lowest = Number.POSITIVE_INFINITY;
    entries.forEach((buffered, key) => {
      const { t } = buffered;
      let min = Number.POSITIVE_INFINITY;
      for (let i = 0; i < t.length; i++) if ((t[i] as number) < min) min = t[i] as number;
      if (min < below) due.push(key);
      else if (min < lowest) lowest = min;
    });
    for (const key of due) {
      const buffered = this.writable(side, key);
      const { t, v, m } = buffered;
      let kept = 0;
      for (let i = 0; i < t.length; i++) {
        const ti = t[i] as number;
        if (ti < below) {
          evicted?.(key, ti, v[i], m[i] as number);
          continue;
        }
        if (ti < lowest) lowest = ti;
        t[kept] = ti;
        v[kept] = v[i];
        m[kept++] = m[i] as number;
      }
      this.#records -= t.length - kept;
      t.length = kept;
      v.length = kept;
      m.length = kept;
      if (kept === 0) this.#table.delete(side, key);
    }
    this.#lowest[side] = lowest;
  }

  /** Sets a key's records as loaded from the store (then `settle`). */
  load(side: Side, key: Key, buffered: Buffered): void {
    this.#table.set(side, key, buffered);
    this.#records += buffered.t.length;
  }

  /** Calls `visit` with every side and key the batch changed, with its records now (`undefined`: none). */
  changes(visit: (side: Side, key: Key, buffered: Buffered | undefined) => void): void {
    this.#table.changes((slot, key, value) => { visit(slot as Side, key, value as Buffered | undefined); });
  }

  /** The batch committed: forget how to undo it. */
  settle(): void {
    this.#table.settle();
  }

  /** The batch did not commit: back to the state before it. */
  rollback(): void {
    this.#table.rollback();
    this.#recount();
  }

  /** Empties the buffer (before loading it). */
  clear(): void {
    this.#table.clear();
    this.#recount();
  }

  #recount(): void {
    this.#owned.clear();
    this.#lowest[LEFT] = Number.NEGATIVE_INFINITY;
    this.#lowest[RIGHT] = Number.NEGATIVE_INFINITY;
    let records = 0;
    for (const side of this.#table.slots()) (this.#table.entriesOf(side) as KeyMap<Key, Buffered>).forEach((b) => (records += b.t.length));
    this.#records = records;
  }
}
