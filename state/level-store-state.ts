/*
 * The state a LevelDB state store keeps (shared by the store, its commit path and the backend)
 * and the helpers that read it.
 */
import { hex, StateValueDecodeError, type MetaDb, type RowsDb, type StateDatabase, type StoreMeta } from './level-layout.js';
import type { LruCache } from './lru-cache.js';
import type { StagedWrites } from './staged-writes.js';
import { stateIoFailed } from './state-errors.js';
import type { StoreKey } from './state-store.js';
import { decodeValue, encodeValueShared } from './value-codec.js';

/** `completeAt` of a store that may hold no row and has not looked yet (see {@link probeEmpty}). */
export const UNPROBED = -2;
/** `completeAt` of a store whose cache is not known to hold every row. */
export const INCOMPLETE = -1;

/** Raw bytes in, raw bytes out: for batches and bulk reads of rows on the backend's database. */
export const VIEWS = { keyEncoding: 'view', valueEncoding: 'view' } as const;

/**
 * A committed value with its encoded size (and the cache's mark of use), or null for a key known
 * to be absent. A commit updates the row of a key in place when the row is the cache's.
 */
export type Row = { value: unknown; size: number; used: boolean } | null;

export interface StoreState {
  readonly operatorId: string;
  /** The directory of the checkpoint the store lives in, if it does: its damage is the checkpoint's. */
  readonly checkpoint: string | undefined;
  readonly db: StateDatabase;
  /** The sublevel of the rows, for scans and single reads. */
  readonly rows: RowsDb;
  /** The bytes before each row's key in `db`: batches and bulk reads go to `db` itself. */
  readonly prefix: Uint8Array;
  readonly metas: MetaDb;
  meta: StoreMeta;
  /** The writes of the version being built. */
  staged: StagedWrites;
  /**
   * The staged writes of the last batch handed off by a pipelined commit (see
   * `CommitParticipant.handOff`), while its atomic write may be in flight: the base the version
   * being built reads, under its own staged writes and over the committed rows, until the version
   * ends. The cache takes them once the write is durable.
   */
  handedOff: StagedWrites | undefined;
  /** Committed rows readable by `get` in the version being built. */
  readonly loaded: Map<StoreKey, Row>;
  readonly cache: LruCache<StoreKey, Row>;
  /**
   * The cache's `drops` when `loaded` was last emptied: while they are the same, every row the
   * version has pinned is still the cache's entry for its key (nothing else replaces one).
   */
  pinnedAt: number;
  /** Bumped by every commit, so a read that raced one does not cache what it read. */
  generation: number;
  /**
   * The cache's `drops` when it last held every committed row (the database was found to hold no
   * row of the store), {@link UNPROBED} while that is worth checking, or {@link INCOMPLETE}: while
   * the cache has dropped nothing since, it still holds them all.
   */
  completeAt: number;
  /** Commits prepared and not yet confirmed written: while any is, the database may hold rows the store does not know. */
  unconfirmed: number;
  closed: boolean;
  readonly onClose: () => void;
}

export function decodeRow(s: StoreState, key: StoreKey, bytes: Uint8Array): NonNullable<Row> {
  try {
    return { value: decodeValue(bytes), size: bytes.byteLength, used: false };
  } catch (error) {
    throw new StateValueDecodeError(s.operatorId, key, error, s.checkpoint);
  }
}

export function encodeRow(s: StoreState, key: StoreKey, value: unknown): Uint8Array {
  try {
    // LevelDB copies the bytes of a batch: they need no array of their own.
    return encodeValueShared(value);
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
    throw new TypeError(`State store '${s.operatorId}': the value of key 0x${hex(key)} cannot be stored: ${error.message}`, { cause: error });
  }
}

/** Empties `loaded` for the next version. */
export function startVersion(s: StoreState): void {
  s.handedOff = undefined;
  s.loaded.clear();
  s.pinnedAt = s.cache.drops;
}

/** The committed row of `key` if this version knows it (loaded or cached), else undefined. */
export function knownRow(s: StoreState, key: StoreKey): Row | undefined {
  const row = s.loaded.get(key);
  return row !== undefined ? row : s.cache.get(key);
}

/**
 * Whether the store knows every committed row, so that a key it holds no row for has none in the
 * database: its cache held every row when the database was found to hold none (see
 * {@link probeEmpty}), has dropped none since, and every commit prepared since was confirmed
 * written (each puts its rows in the cache), or is the one handed off, whose writes the store reads
 * before its cache. Then reads of other keys need no database read.
 */
export function knowsEveryRow(s: StoreState): boolean {
  return (s.unconfirmed === 0 || handedOffUnconfirmed(s)) && s.completeAt === s.cache.drops;
}

/**
 * Whether the one commit not confirmed is the one handed off (a pipelined commit): its writes are
 * readable in `handedOff`, so that the store still knows every row, from its cache and them.
 */
function handedOffUnconfirmed(s: StoreState): boolean {
  return s.unconfirmed === 1 && s.handedOff !== undefined;
}

/**
 * When the store may hold no row (opened on a meta entry of none, or a commit deleted them all)
 * and has not looked, looks: one seek into its range. Found empty, with no commit in between or
 * unconfirmed, the store knows every row from here (none; the cache is emptied of the absent keys
 * it held). The database is asked, not the meta entry: a row there that the store did not write
 * is read like any other.
 */
export async function probeEmpty(s: StoreState): Promise<void> {
  if (s.completeAt !== UNPROBED || s.unconfirmed !== 0) return;
  const generation = s.generation;
  let found: Buffer[];
  try {
    found = await s.rows.keys({ limit: 1 }).all();
  } catch (error) {
    throw stateIoFailed(s.operatorId, 'look for rows', error, s.checkpoint);
  }
  if (s.completeAt !== UNPROBED || s.unconfirmed !== 0 || generation !== s.generation || s.closed) return;
  if (found.length > 0) {
    s.completeAt = INCOMPLETE;
  } else {
    s.cache.clear();
    s.completeAt = s.cache.drops;
  }
}

