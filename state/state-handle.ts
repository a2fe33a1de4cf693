import type { Time } from 'sluice';
import { deadlineKey, DEADLINE_KIND, entryKey, eventDeadlineKey, noWatermarkKey, timerKey, type TimeDomain } from './state-layout.js';
import type { StateTtl } from './state-spec.js';
import type { StoreKey } from './state-store.js';
import type { StoreRows } from './task-store.js';
import { decodeKey } from './key-codec.js';
import { FIRST_VERSION, migrateValue, type StateVersioning } from './state-version.js';
import { checkStateValue } from './value-codec.js';

/**
 * The state of one key, as the function of `mapWithState` (and its `onTimer`) sees it: Spark's
 * `State`, with the same rules. Each call of the function starts afresh on the key's state as the
 * previous call of the batch left it:
 *
 * | call | key has state | key has no state | after `remove()` in this call | key is timing out |
 * |---|---|---|---|---|
 * | `exists()` | `true` | `false` | `false` | `true` |
 * | `get()` | the state | throws `TypeError` | throws `TypeError` | the state |
 * | `getOption()` | the state | `undefined` | `undefined` | the state |
 * | `update(v)` | replaces it | creates it | throws `TypeError` | throws `TypeError` |
 * | `remove()` | removes it | nothing to remove | throws `TypeError` | throws `TypeError` |
 *
 * A throw fails the call like any error of the function: under `onError` `'fail'` (the default)
 * it fails the batch with `USER_FUNCTION_FAILED`; under `'skip'` or `'deadLetter'` the record is
 * set aside and what the call did to the state is undone (a timing-out key is removed all the
 * same). A later call for the same key (its next record in the batch) may create the state again.
 */
export interface State<S> {
  /** Whether the key has state (`false` after `remove()`; `true` while the key is timing out). */
  exists(): boolean;
  /**
   * The key's state (while the key is timing out, the state it had).
   *
   * @throws TypeError when the key has none, or after `remove()` in this call (check `exists()`
   * first, or use `getOption()`).
   */
  get(): S;
  /** The key's state, or `undefined` when it has none (after `remove()` too). */
  getOption(): S | undefined;
  /**
   * Sets the key's state (creating it when the key has none). The value must be state-storable
   * (see `checkStateValue`) and must not be mutated afterwards.
   *
   * @throws TypeError when the key is timing out (its state is removed after the call: return the
   * final result instead), after `remove()` in this call (call only `update` to replace the
   * state), for `undefined` (use `remove()`), or for a value that cannot be stored.
   */
  update(value: S): void;
  /**
   * Removes the key's state after this call (also when the key has none).
   *
   * @throws TypeError when the key is timing out (its state is removed after the call anyway),
   * or when `remove()` was already called in this call.
   */
  remove(): void;
  /** Whether this call is the key's timeout call (value undefined, state removed afterwards). */
  isTimingOut(): boolean;
  /**
   * Sets a timer for this key at `time` (ms): a processing-time timer fires in the first batch
   * whose batch time is at or after it; an event-time timer in the first batch whose watermark is
   * at or after it. A timer set for a time already reached fires in the next batch.
   *
   * @throws TypeError when the spec has no `onTimer` function.
   */
  setTimer(time: number, domain?: TimeDomain): void;
  /** Deletes this key's timer at `time` in `domain`, if there is one. */
  deleteTimer(time: number, domain?: TimeDomain): void;
}

/**
 * How a key's entry is stored: `[state, lastRecordTime, lastWriteTime, lastWriteWatermark]`, and
 * the state version that wrote it when above 1 (see `StateSpec.version`).
 */
export type StateEntry = readonly [state: unknown, touchedAt: number, writtenAt: number, writtenWatermark: number | null, version?: number];

/** The state of an entry at the operator's version: migrated when an older version wrote it. */
export function stateAt(entry: StateEntry, versioning: StateVersioning, operator: string, key: StoreKey): unknown {
  const from = entry[4] ?? 1;
  return from === versioning.version ? entry[0] : migrateValue(versioning, entry[0], from, operator, describeKey(key));
}

/** A stored key for messages: its decoded form, or its bytes when it cannot be decoded. */
function describeKey(key: StoreKey): string {
  try {
    return JSON.stringify(decodeKey(key), (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
  } catch {
    return `0x${Buffer.from(key, 'latin1').toString('hex')}`;
  }
}

/** The timing settings a handle needs to keep deadline rows in step with entries. */
export interface Deadlines {
  readonly timeout: number | undefined;
  readonly ttl: StateTtl | undefined;
  readonly hasTimerFunction: boolean;
}

/**
 * The one mutable {@link State} an operator reuses for every key of a task: bound to a key,
 * used by the user function, then flushed into the store.
 */
export class StateHandle<S> implements State<S> {
  readonly #deadlines: Deadlines;
  readonly #versioning: StateVersioning;
  /** Whether the entry bound was migrated from an older version: written back even when unchanged. */
  #migrated = false;
  #store!: StoreRows;
  #key: StoreKey = '';
  /** The entry row of the bound key (made once per bind: the read and the write share it). */
  #row: StoreKey = '';
  #operator = '';
  #before: StateEntry | undefined;
  #value: S | undefined;
  #exists = false;
  #updated = false;
  #removed = false;
  /** Whether the current call removed the state: it may then neither update nor remove it again. */
  #removedInCall = false;
  #touched = false;
  #timingOut = false;
  #saved: { value: S | undefined; exists: boolean; updated: boolean; removed: boolean } = { value: undefined, exists: false, updated: false, removed: false };

  constructor(deadlines: Deadlines, versioning: StateVersioning = FIRST_VERSION) {
    this.#deadlines = deadlines;
    this.#versioning = versioning;
  }

  /** Binds the handle to `key` in `store` (its entry must be loaded). */
  bind(store: StoreRows, key: StoreKey, operator: string, timingOut: boolean): void {
    this.#store = store;
    this.#key = key;
    this.#operator = operator;
    const row = entryKey(key);
    this.#row = row;
    const before = store.get(row) as StateEntry | undefined;
    this.#before = before;
    this.#exists = before !== undefined;
    this.#migrated = before !== undefined && (before[4] ?? 1) !== this.#versioning.version;
    this.#value = (before === undefined ? undefined : this.#migrated ? stateAt(before, this.#versioning, operator, key) : before[0]) as S | undefined;
    this.#updated = false;
    this.#removed = false;
    this.#removedInCall = false;
    this.#touched = false;
    this.#timingOut = timingOut;
  }

  /** Starts a call of the user function on the bound key (each call may remove the state once). */
  beginCall(): void {
    this.#removedInCall = false;
  }

  /** Remembers the key's state as it is, for {@link rollback} (before a call whose failure is set aside). */
  mark(): void {
    const saved = this.#saved;
    saved.value = this.#value;
    saved.exists = this.#exists;
    saved.updated = this.#updated;
    saved.removed = this.#removed;
  }

  /** Undoes what a call did to the state since {@link mark} (timers it set or deleted stay). */
  rollback(): void {
    const saved = this.#saved;
    this.#value = saved.value;
    this.#exists = saved.exists;
    this.#updated = saved.updated;
    this.#removed = saved.removed;
  }

  /** Marks that a record of the key arrived (refreshes the idle timeout). */
  touch(): void {
    this.#touched = true;
  }

  exists(): boolean {
    return this.#exists;
  }

  get(): S {
    if (!this.#exists) throw new TypeError(`The state of this key does not exist in ${this.#operator}; check state.exists() or use state.getOption().`);
    return this.#value as S;
  }

  getOption(): S | undefined {
    return this.#exists ? this.#value : undefined;
  }

  update(value: S): void {
    if (this.#timingOut) {
      throw new TypeError(`Cannot update the state of a key that is timing out in ${this.#operator}: its state is removed after this call. Return the final result instead (check state.isTimingOut()).`);
    }
    if (this.#removedInCall) {
      throw new TypeError(`Cannot update the state of this key in ${this.#operator} after state.remove() in the same call: to replace the state, call only state.update(value); to remove it, do not update it afterwards.`);
    }
    if (value === undefined) throw new TypeError(`state.update(undefined) in ${this.#operator}: use state.remove() to remove a key's state.`);
    checkStateValue(value, 'state value');
    this.#value = value;
    this.#exists = true;
    this.#updated = true;
    this.#removed = false;
  }

  remove(): void {
    if (this.#timingOut) {
      throw new TypeError(`Cannot remove the state of a key that is timing out in ${this.#operator}: it is removed after this call anyway. Leave it (check state.isTimingOut()) and return the final result.`);
    }
    if (this.#removedInCall) throw new TypeError(`Cannot remove the state of this key in ${this.#operator} twice in the same call: state.remove() was already called; check state.exists() first.`);
    this.#removedInCall = true;
    this.#value = undefined;
    this.#exists = false;
    this.#removed = true;
    this.#updated = false;
  }

  isTimingOut(): boolean {
    return this.#timingOut;
  }

  setTimer(time: number, domain: TimeDomain = 'processing'): void {
    this.#checkTimer(time, domain);
    this.#store.put(timerKey(domain, time, this.#key), 1);
  }

  deleteTimer(time: number, domain: TimeDomain = 'processing'): void {
    this.#checkTimer(time, domain);
    this.#store.delete(timerKey(domain, time, this.#key));
  }

  /**
   * Writes what the function did to the store: the entry, and its deadline rows moved with it.
   * A timing-out key is always removed.
   */
  flush(batchTime: Time, watermark: Time | undefined): void {
    const store = this.#store;
    const before = this.#before;
    if (this.#timingOut || this.#removed) {
      if (before !== undefined) {
        store.delete(this.#row);
        this.#deleteDeadlines(before);
      }
      return;
    }
    const refresh = this.#touched && this.#exists && this.#deadlines.timeout !== undefined;
    if (!this.#updated && !refresh && !this.#migrated) return;
    const written = this.#updated || before === undefined;
    const { version } = this.#versioning;
    const touchedAt = this.#touched || this.#updated ? batchTime : (before?.[1] ?? batchTime);
    const writtenAt = written ? batchTime : before[2];
    const writtenWatermark = written ? (watermark ?? null) : before[3];
    // Array literals of exactly the entry's length: an entry built by spreading carries spare
    // capacity (about 100 bytes more per key in memory; scenario 7 of bench/).
    const entry: StateEntry = version === 1 ? [this.#value, touchedAt, writtenAt, writtenWatermark] : [this.#value, touchedAt, writtenAt, writtenWatermark, version];
    if (before !== undefined) this.#deleteDeadlines(before);
    store.put(this.#row, entry);
    this.#putDeadlines(entry);
  }

  #putDeadlines(entry: StateEntry): void {
    this.#forDeadlines(entry, (row) => {
      this.#store.put(row, 1);
    });
  }

  #deleteDeadlines(entry: StateEntry): void {
    this.#forDeadlines(entry, (row) => {
      this.#store.delete(row);
    });
  }

  #forDeadlines(entry: StateEntry, visit: (row: StoreKey) => void): void {
    const { timeout, ttl } = this.#deadlines;
    if (timeout !== undefined) visit(deadlineKey(entry[1] + timeout, DEADLINE_KIND.timeout, this.#key));
    if (ttl?.timeDomain === 'processing') visit(deadlineKey(entry[2] + ttl.duration, DEADLINE_KIND.ttl, this.#key));
    // Written before there was a watermark: the first watermark gives the deadline (mapWithState's #expireTtl).
    if (ttl?.timeDomain === 'event') visit(entry[3] === null ? noWatermarkKey(this.#key) : eventDeadlineKey(entry[3] + ttl.duration, this.#key));
  }

  #checkTimer(time: number, domain: TimeDomain): void {
    if (!this.#deadlines.hasTimerFunction) {
      throw new TypeError(`${this.#operator}: a timer was set but the state spec has no onTimer function; add .onTimer((key, timer, state) => ...).`);
    }
    if (typeof time !== 'number' || !Number.isFinite(time)) throw new TypeError(`${this.#operator}: a timer time must be a finite number of ms, got ${String(time)}.`);
    if (domain !== 'processing' && domain !== 'event') throw new TypeError(`${this.#operator}: a timer domain is 'processing' or 'event', got ${String(domain)}.`);
  }
}
