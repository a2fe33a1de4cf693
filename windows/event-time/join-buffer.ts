import type { Key } from 'sluice';
import { KeyMap } from 'sluice/extend';

/**
 * One key's buffered records on one side of an interval join, in arrival order: event times,
 * values, and whether each has matched (1) or not (0). Parallel arrays, so that matching reads
 * numbers without touching the values. Changed in place: the store is given copies.
 */
export interface Buffered {
  readonly t: number[];
  readonly v: unknown[];
  readonly m: number[];
  /** The batch (the buffer's epoch) that last journaled a change of it; not stored. */
  e?: number;
}

/** The sides of a join. */
export const LEFT = 0;
export const RIGHT = 1;
export type Side = typeof LEFT | typeof RIGHT;

/** What the running batch did to one key's records, first change first (the undo journal). */
type Change =
  /** The batch's first change of the key: it had `length` records (or was absent). */
  | { readonly kind: 'touch'; readonly side: Side; readonly key: Key; readonly buffered: Buffered; readonly length: number; readonly existed: boolean }
  /** Record `index` was marked matched. */
  | { readonly kind: 'mark'; readonly buffered: Buffered; readonly index: number }
  /** Records were evicted: the journal's evicted records `from` to `to` (positions ascending, times, values, marks). */
  | { readonly kind: 'evict'; readonly buffered: Buffered; readonly from: number; readonly to: number };

/**
 * The two sides' buffered records of an interval join, in memory: side → key → {@link Buffered},
 * changed in place, with an undo journal of the running batch (what it appended, marked and
 * evicted) so that a batch that did not commit rolls back, and so that the keys it changed can
 * be written to a store that keeps state on disk.
 */
export class JoinBuffer {
  readonly #sides = [new KeyMap<Key, Buffered>(), new KeyMap<Key, Buffered>()] as const;
  #journal: Change[] = [];
  /** The records the running batch evicted, for its undo: where each was, its time, value and mark. */
  readonly #gone = { at: [] as number[], t: [] as number[], v: [] as unknown[], m: [] as number[] };
  /** Counts batches: a `Buffered` whose `e` is the epoch has been journaled by the running batch. */
  #epoch = 0;
  /** Per side, a lower bound of the buffered times (so an eviction that has nothing to do costs nothing). */
  readonly #lowest = [Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY];
  #records = 0;

  /** How many records both sides hold. */
  get records(): number {
    return this.#records;
  }

  /** The records of `key` on `side` (do not change them), or `undefined`. */
  get(side: Side, key: Key): Buffered | undefined {
    return this.#sides[side].get(key);
  }

  /** Buffers a record of `side`, after the key's others. */
  add(side: Side, key: Key, t: number, value: unknown, matched: number): void {
    const map = this.#sides[side];
    const at = map.slotOf(key);
    let buffered: Buffered;
    if (at < 0) {
      buffered = { t: [], v: [], m: [], e: this.#epoch };
      map.add(key, buffered);
      this.#journal.push({ kind: 'touch', side, key, buffered, length: 0, existed: false });
    } else {
      buffered = map.valueAt(at);
      this.#touch(side, key, buffered);
    }
    buffered.t.push(t);
    buffered.v.push(value);
    buffered.m.push(matched);
    this.#records++;
    if (t < (this.#lowest[side] as number)) this.#lowest[side] = t;
  }

  /** Marks record `index` of `key` on `side` (from `get`) as matched (nothing when it is already). */
  mark(side: Side, key: Key, buffered: Buffered, index: number): void {
    // Marking a marked record changes nothing, and must journal nothing: its undo would unmark it.
    if (buffered.m[index] === 1) return;
    this.#touch(side, key, buffered);
    buffered.m[index] = 1;
    this.#journal.push({ kind: 'mark', buffered, index });
  }

  /**
   * Removes every record of `side` whose time is below `below`, calling `evicted` with each one
   * (in each key's arrival order; keys in no particular order).
   */
  evict(side: Side, below: number, evicted: ((key: Key, t: number, value: unknown, matched: number) => void) | undefined): void {
    if (below <= (this.#lowest[side] as number)) return;
    const map = this.#sides[side];
    const emptied: Key[] = [];
    let lowest = Number.POSITIVE_INFINITY;
    map.forEach((buffered, key) => {
      const { t, v, m } = buffered;
      let first = -1;
      for (let i = 0; i < t.length; i++) {
        const ti = t[i] as number;
        if (ti < below) {
          first = i;
          break;
        }
        if (ti < lowest) lowest = ti;
      }
      if (first < 0) return;
      this.#touch(side, key, buffered);
      const gone = this.#gone;
      const from = gone.at.length;
      let kept = first;
      for (let i = first; i < t.length; i++) {
        const ti = t[i] as number;
        if (ti < below) {
          evicted?.(key, ti, v[i], m[i] as number);
          gone.at.push(i);
          gone.t.push(ti);
          gone.v.push(v[i]);
          gone.m.push(m[i] as number);
          continue;
        }
        if (ti < lowest) lowest = ti;
        t[kept] = ti;
        v[kept] = v[i];
        m[kept++] = m[i] as number;
      }
      this.#journal.push({ kind: 'evict', buffered, from, to: gone.at.length });
      this.#records -= t.length - kept;
      t.length = kept;
      v.length = kept;
      m.length = kept;
      if (kept === 0) emptied.push(key);
    });
    for (const key of emptied) map.delete(key);
    if (emptied.length > 0) map.compact();
    this.#lowest[side] = lowest;
  }

  /** Sets a key's records as loaded from the store (before the first batch). */
  load(side: Side, key: Key, buffered: Buffered): void {
    this.#sides[side].set(key, { t: [...buffered.t], v: [...buffered.v], m: [...buffered.m] });
    this.#records += buffered.t.length;
    this.#lowest[side] = Number.NEGATIVE_INFINITY;
  }

  /** Calls `visit` with every side and key the running batch changed, with a copy of its records (`undefined`: none left). */
  changes(visit: (side: Side, key: Key, buffered: Buffered | undefined) => void): void {
    for (const change of this.#journal) {
      if (change.kind !== 'touch') continue;
      const { t, v, m } = change.buffered;
      visit(change.side, change.key, t.length === 0 ? undefined : { t: t.slice(), v: v.slice(), m: m.slice() });
    }
  }

  /** The batch committed: forget how to undo it. */
  settle(): void {
    this.#journal = [];
    const gone = this.#gone;
    gone.at.length = gone.t.length = gone.v.length = gone.m.length = 0;
    this.#epoch++;
  }

  /** The batch did not commit: back to the state before it, last change first. */
  rollback(): void {
    const journal = this.#journal;
    for (let i = journal.length - 1; i >= 0; i--) {
      const change = journal[i] as Change;
      const { buffered } = change;
      const { t, v, m } = buffered;
      if (change.kind === 'mark') {
        m[change.index] = 0;
      } else if (change.kind === 'evict') {
        const kept = { t: t.slice(), v: v.slice(), m: m.slice() };
        const gone = this.#gone;
        const n = kept.t.length + change.to - change.from;
        t.length = v.length = m.length = 0;
        for (let p = 0, g = change.from, k = 0; p < n; p++) {
          const fromGone = g < change.to && gone.at[g] === p;
          const src = fromGone ? gone : kept;
          const j = fromGone ? g++ : k++;
          t.push(src.t[j] as number);
          v.push(src.v[j]);
          m.push(src.m[j] as number);
        }
      } else {
        const map = this.#sides[change.side];
        if (!change.existed) {
          map.delete(change.key);
          continue;
        }
        if (map.slotOf(change.key) < 0) map.add(change.key, buffered);
        t.length = v.length = m.length = change.length;
      }
    }
    this.settle();
    this.#recount();
  }

  /** Empties the buffer (before loading it). */
  clear(): void {
    this.#sides[LEFT].truncate(0);
    this.#sides[RIGHT].truncate(0);
    this.settle();
    this.#recount();
  }

  /** Journals the running batch's first change of `key`'s records. */
  #touch(side: Side, key: Key, buffered: Buffered): void {
    if (buffered.e === this.#epoch) return;
    buffered.e = this.#epoch;
    this.#journal.push({ kind: 'touch', side, key, buffered, length: buffered.t.length, existed: true });
  }

  #recount(): void {
    this.#lowest[LEFT] = Number.NEGATIVE_INFINITY;
    this.#lowest[RIGHT] = Number.NEGATIVE_INFINITY;
    let records = 0;
    for (const map of this.#sides) map.forEach((b) => (records += b.t.length));
    this.#records = records;
  }
}
