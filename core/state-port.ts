import type { CommitParticipant } from './commit/commit-participant.js';

/*
 * The state port: the contract of the stores that keep operators' state and of the backends that
 * open them. Declared in the core so that a context can be given a backend (`stateBackend`) and a
 * checkpoint can bring its own; implemented in `sluice/state` (memory and LevelDB).
 */

/**
 * A key of a state store: an order-preserving binary string, one byte (0..255) per character, so
 * that JavaScript's string order is the byte order. Build keys with the key codec
 * (`encodeKey`), never by hand.
 */
export type StoreKey = string;

/** A range of keys, in key order: `gte <= key < lt`, and only keys starting with `prefix`. */
export interface KeyRange {
  readonly prefix?: StoreKey;
  readonly gte?: StoreKey;
  readonly lt?: StoreKey;
  /** At most this many entries. */
  readonly limit?: number;
}

/** A value of a stateful operator's configuration, as a checkpoint records it. */
export type StateConfigValue = string | number | boolean | null;

/**
 * What a stateful operator's stored state means, recorded in a checkpoint so that a restarted (or
 * upgraded) program keeps an operator's state only where it still means the same.
 */
export interface StateDescriptor {
  /**
   * The settings that decide what the stored state means (a window's assigner and sizes, the
   * aggregator, a state spec's time-to-live domain): a restart that changes any of them is
   * refused with `CHECKPOINT_INCOMPATIBLE` naming the field.
   */
  readonly config: Readonly<Record<string, StateConfigValue>>;
  /**
   * The version of the stored values (state schema evolution): a restart with a higher version
   * migrates the values an older one wrote; a lower one is refused.
   */
  readonly version: number;
}

/** How big a store is, for progress events and inspection. */
export interface StoreStats {
  /** Committed rows, of every namespace (an operator may keep several rows per key). */
  readonly rows: number;
  /** Approximate bytes of the committed rows (keys and values, every namespace), where the store knows it. */
  readonly bytes: number | undefined;
  /**
   * Committed rows per namespace, the first character of their key (`{ S: 120, D: 120 }`), kept
   * as the store counts `rows`, so an operator can report its keys without a scan. Absent where
   * the store does not count them (a LevelDB store written before Sluice counted them, until its
   * first commit counts them once).
   */
  readonly namespaces?: Readonly<Record<string, number>>;
}

/**
 * The versioned key-value store behind one stateful operator (docs/architecture.md).
 *
 * A store is opened at its last committed version N. While a batch runs, the operator loads the
 * keys it needs in one bulk call (`load`), reads them synchronously (`get`, `has`), and stages
 * writes (`put`, `delete`); reads see the staged writes. `commit()` makes the staged writes
 * version N + 1; `abort()` drops them. `scan` walks a key range in key order, staged writes
 * included; `getCommitted` and `scanCommitted` see only the last committed version (what
 * queryable state serves while a batch runs).
 *
 * Values are the state values of {@link checkStateValue}: the store keeps them exactly (a store
 * that serializes uses the value codec). Callers never mutate a value after `put`.
 *
 * Operational failures are SluiceErrors that name the operator (the store's id): `STATE_IO_FAILED`
 * when a read or write fails or the store is closed, `STATE_CORRUPT` when what it holds cannot be
 * decoded. A store of your own should throw the same, so that a failing batch says what failed.
 */
export interface StateStore {
  /** The last committed version: 0 for a new store, N + 1 after committing on version N. */
  readonly version: number;
  /**
   * True when the committed state lives only in this process's memory, as with the in-memory
   * backend. An operator that keeps a working copy of its state in memory anyway (the event-time
   * window operator does) need not write it to such a store. Absent means false.
   */
  readonly inMemory?: boolean;
  /** Makes the committed values of `keys` readable by `get` and `has` (one bulk read). */
  load(keys: Iterable<StoreKey>): Promise<void>;
  /**
   * The value of `key` in the version being built (staged writes first), or `undefined`.
   *
   * @throws TypeError when the key was neither loaded nor written in this version (a store that
   * keeps state on disk cannot answer synchronously).
   */
  get(key: StoreKey): unknown;
  /** Whether `key` has a value in the version being built; same loading rule as `get`. */
  has(key: StoreKey): boolean;
  /** Stages `value` for `key`. */
  put(key: StoreKey, value: unknown): void;
  /** Stages the removal of `key`. */
  delete(key: StoreKey): void;
  /** Entries in key order within `range`, staged writes included. */
  scan(range?: KeyRange): AsyncIterable<readonly [StoreKey, unknown]>;
  /** The committed value of `key`, ignoring staged writes. */
  getCommitted(key: StoreKey): Promise<unknown>;
  /** Committed entries in key order within `range`, ignoring staged writes. */
  scanCommitted(range?: KeyRange): AsyncIterable<readonly [StoreKey, unknown]>;
  /** Makes the staged writes the next version; resolves with it. */
  commit(): Promise<number>;
  /** Drops the staged writes. */
  abort(): void;
  /** Committed size. */
  stats(): StoreStats;
  /** Releases the store (not the database it lives in). */
  close(): Promise<void>;
}

/**
 * Opens the stores of a context's stateful operators and commits them together: the backend is
 * the commit participant of all its stores (see {@link CommitParticipant}). Its `prepare` gives the
 * stores' staged writes to the batch's atomic write (a backend that lives in the checkpoint) or
 * writes them itself; its `committed` makes them the stores' next version; its `aborted` drops
 * them. With a checkpoint that persists state every few batches, the writes stay staged until a
 * commit that persists state (`PendingCommit.persistsState`).
 */
export interface StateBackend extends CommitParticipant {
  /** A short name for logs (`'memory'`, `'leveldb'`). */
  readonly kind: string;
  /** Opens (or creates) the store of the operator with this stable id, at its last committed version. */
  open(operatorId: string): Promise<StateStore>;
  /** Closes every store and the backend's database. */
  close(): Promise<void>;
}
