import { KeyMap } from 'sluice/extend';
import type { Key } from 'sluice';
import { WindowEntries } from './window-entries.js';

/** In the undo log: the key had no value before the change. */
const ABSENT: unique symbol = Symbol('absent');
/** In the undo log: the change took a whole slot (`takeSlot`); the value is the slot's map. */
const WHOLE_SLOT: unique symbol = Symbol('whole slot');
/**
 * In the undo log: the slot was created, empty, since `settle`. Changes to a slot created since
 * `settle` are not logged one by one: undoing its creation removes it whole.
 */
const NEW_SLOT: unique symbol = Symbol('new slot');

/**
 * The accumulators of an event-time window operator, in memory: slot (a window start, a pane
 * start, or 0 for sessions) → key → value, as Flink's heap state backend keeps them. Keys are
 * the stream's own keys, compared by value as `KeyMap` does (no encoding per record; see
 * `WindowEntries`). The
 * strategy decides what a slot is. Every change since {@link WindowTable.settle} is in an undo log,
 * so a batch that did not commit can be rolled back (`rollback`), and the operator can write the
 * batch's changes to a store that keeps state on disk (`changes`). A slot created since `settle`
 * is logged once, not change by change (most records of a batch fall in windows it opened).
 *
 * Values are kept as given, never copied; like store values, they must not be mutated after `set`.
 */
export class WindowTable {
  readonly #slots = new Map<number, WindowEntries>();
  // The undo log, in change order: slot, key (or WHOLE_SLOT) and the value before (or ABSENT).
  #undoSlots: number[] = [];
  #undoKeys: (Key | typeof WHOLE_SLOT | typeof NEW_SLOT)[] = [];
  /** The slots created since `settle`: their changes are not logged one by one. */
  readonly #fresh = new Set<number>();
  #undoValues: unknown[] = [];
  // The last slot looked up: records of a batch mostly fall in the same one.
  #lastSlot = Number.NaN;
  #lastMap: WindowEntries | undefined;
  /** Whether the last slot looked up was created since `settle`. */
  #lastFresh = false;
  #size = 0;
  #highest = Number.NEGATIVE_INFINITY;

  /** An upper bound of the slots that hold entries (the highest slot set since `clear`). */
  get highestSlot(): number {
    return this.#highest;
  }

  /** How many `[slot, key]` entries the table holds. */
  get size(): number {
    return this.#size;
  }

  /** The value of `key` in `slot`, or `undefined`. */
  get(slot: number, key: Key): unknown {
    return this.#slot(slot)?.get(key);
  }

  /** Sets the value of `key` in `slot` (logged for undo). */
  set(slot: number, key: Key, value: unknown): void {
    const map = this.#slotToWrite(slot);
    const before = map.get(key);
    map.set(key, value);
    this.#changed(slot, key, before);
  }

  /**
   * Sets the value of `key` in `slot` to `merge(before, value)`, `before` being its value or
   * `undefined` (logged for undo).
   */
  merge<V>(slot: number, key: Key, value: V, merge: (before: unknown, value: V) => unknown): void {
    const map = this.#slotToWrite(slot);
    const before = map.get(key);
    map.set(key, merge(before, value));
    this.#changed(slot, key, before);
  }

  /**
   * Adds `term` to the number `key` holds in `slot`, or sets it to `0 + term` when it holds none
   * (logged for undo): `merge` with `(before, term) => (before ?? 0) + term`, without the call,
   * for the numeric aggregators (count, sum).
   */
  increment(slot: number, key: Key, term: number): void {
    const map = this.#slotToWrite(slot);
    const before = map.get(key) as number | undefined;
    map.set(key, before === undefined ? 0 + term : before + term);
    this.#changed(slot, key, before);
  }

  /** Removes `key` from `slot` (logged for undo). */
  delete(slot: number, key: Key): void {
    const map = this.#slot(slot);
    const before = map?.get(key);
    if (map === undefined || before === undefined) return;
    if (!this.#lastFresh) this.#log(slot, key, before);
    map.delete(key);
    this.#size--;
    if (map.size === 0) this.#dropSlot(slot);
  }

  /** Removes a whole slot at once and returns its entries (logged for undo), or `undefined`. */
  takeSlot(slot: number): WindowEntries | undefined {
    const map = this.#slot(slot);
    if (map === undefined) return undefined;
    this.#log(slot, WHOLE_SLOT, map);
    this.#size -= map.size;
    this.#dropSlot(slot);
    return map;
  }

  /** The slots that hold entries, in no particular order. */
  slots(): IterableIterator<number> {
    return this.#slots.keys();
  }

  /** The entries of `slot` (do not change them), or `undefined` when it has none. */
  entriesOf(slot: number): WindowEntries | undefined {
    return this.#slot(slot);
  }

  /** Calls `visit` with every `[slot, key]` changed since `settle`, with its value now (`undefined` when removed); once each. */
  changes(visit: (slot: number, key: Key, value: unknown) => void): void {
    const seen = new Map<number, KeyMap<Key, true>>();
    const once = (slot: number, key: Key): void => {
      let keys = seen.get(slot);
      if (keys === undefined) seen.set(slot, (keys = new KeyMap()));
      if (keys.slotOf(key) >= 0) return;
      keys.add(key, true);
      visit(slot, key, this.get(slot, key));
    };
    for (let i = 0; i < this.#undoKeys.length; i++) {
      const slot = this.#undoSlots[i] as number;
      const key = this.#undoKeys[i];
      if (key === WHOLE_SLOT) (this.#undoValues[i] as WindowEntries).forEach((_value, k) => { once(slot, k); });
      // A slot created since settle: its keys now (a key it gained and lost was never stored).
      else if (key === NEW_SLOT) this.#slots.get(slot)?.forEach((_value, k) => { once(slot, k); });
      else once(slot, key as Key);
    }
  }

  /** Forgets the undo log: the changes so far are committed. */
  settle(): void {
    this.#undoSlots = [];
    this.#undoKeys = [];
    this.#undoValues = [];
    this.#fresh.clear();
    this.#lastFresh = false;
  }

  /** Undoes every change since `settle`, last first. */
  rollback(): void {
    for (let i = this.#undoKeys.length - 1; i >= 0; i--) {
      const slot = this.#undoSlots[i] as number;
      const key = this.#undoKeys[i];
      const value = this.#undoValues[i];
      if (key === WHOLE_SLOT) {
        const map = value as WindowEntries;
        this.#slots.set(slot, map);
        this.#size += map.size;
        continue;
      }
      if (key === NEW_SLOT) {
        // Every later change to it is undone (none of its own was logged): it goes whole.
        const map = this.#slots.get(slot);
        if (map !== undefined) {
          this.#size -= map.size;
          this.#slots.delete(slot);
        }
        continue;
      }
      let map = this.#slots.get(slot);
      if (value === ABSENT) {
        if (map?.delete(key as Key) === true) {
          this.#size--;
          if (map.size === 0) this.#slots.delete(slot);
        }
      } else {
        if (map === undefined) this.#slots.set(slot, (map = new WindowEntries()));
        if (map.get(key as Key) === undefined) this.#size++;
        map.set(key as Key, value);
      }
    }
    this.#lastSlot = Number.NaN;
    this.#lastMap = undefined;
    this.settle();
  }

  /** Empties the table (before it is loaded again), forgetting the undo log. */
  clear(): void {
    this.#slots.clear();
    this.#size = 0;
    this.#highest = Number.NEGATIVE_INFINITY;
    this.#lastSlot = Number.NaN;
    this.#lastMap = undefined;
    this.settle();
  }

  #slot(slot: number): WindowEntries | undefined {
    if (slot === this.#lastSlot) return this.#lastMap;
    const map = this.#slots.get(slot);
    if (map !== undefined) {
      this.#lastSlot = slot;
      this.#lastMap = map;
      this.#lastFresh = this.#fresh.has(slot);
    }
    return map;
  }

  /** The map of `slot`, created when it has none. */
  #slotToWrite(slot: number): WindowEntries {
    let map = this.#slot(slot);
    if (map === undefined) {
      map = new WindowEntries();
      this.#slots.set(slot, map);
      if (slot > this.#highest) this.#highest = slot;
      this.#log(slot, NEW_SLOT, undefined);
      this.#fresh.add(slot);
      this.#lastSlot = slot;
      this.#lastMap = map;
      this.#lastFresh = true;
    }
    return map;
  }

  #dropSlot(slot: number): void {
    this.#slots.delete(slot);
    if (slot === this.#lastSlot) {
      this.#lastSlot = Number.NaN;
      this.#lastMap = undefined;
    }
  }

  /** Logs the change of `key` in `slot` from `before` (`undefined`: absent), after the value was set. */
  #changed(slot: number, key: Key, before: unknown): void {
    if (before === undefined) {
      if (!this.#lastFresh) this.#log(slot, key, ABSENT);
      this.#size++;
    } else if (!this.#lastFresh) {
      this.#log(slot, key, before);
    }
  }

  #log(slot: number, key: Key | typeof WHOLE_SLOT | typeof NEW_SLOT, before: unknown): void {
    this.#undoSlots.push(slot);
    this.#undoKeys.push(key);
    this.#undoValues.push(before);
  }
}
