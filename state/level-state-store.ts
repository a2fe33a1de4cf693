/*
 * Over 400 lines because the store and its backend share one commit path (a store's own commit
 * and the backend's atomic commit of all stores prepare their writes the same way).
 */
import { Level } from 'level';
import {
  checkMeta,
  EMPTY_META,
  hex,
  metaOf,
  prefixedKeys,
  rowsOf,
  rowsPrefix,
  StateValueDecodeError,
  toBytes,
  writeBatch,
  type MetaDb,
  type RowsDb,
  type StateBatchOperation,
  type StateDatabase,
  type StoreMeta,
} from './level-layout.js';
import { checkStoreKey, keyBounds, type KeyBounds } from './key-range.js';
import { LruCache } from './lru-cache.js';
import { DELETED, mergeStaged, StagedWrites, type StoreEntry } from './staged-writes.js';
import type { KeyRange, StateBackend, StateStore, StoreKey, StoreStats } from './state-store.js';
import { decodeValue, encodeValueShared } from './value-codec.js';

export { StateValueDecodeError, type StateBatchOperation, type StoreMeta } from './level-layout.js';

/** Options of {@link LevelStateBackend}. */
export interface LevelStateBackendOptions {
  /** Committed values each store keeps decoded in memory, known-absent keys included (default 100,000). */
  readonly cacheSize?: number;
}

/** The cache size of a {@link LevelStateBackend} without the `cacheSize` option. */
export const DEFAULT_CACHE_SIZE = 100_000;

/** The writes of a commit, prepared but not yet written (see {@link LevelStateBackend.prepareCommit}). */
export interface PreparedStateCommit {
  /**
   * Operations for one `batch` on the backend's database (they name their sublevels): a new array
   * for this commit, to which the caller may add its own operations.
   */
  readonly operations: StateBatchOperation[];
  /** Makes the stores reflect the commit; call it once the operations are written. */
  committed(): void;
}

const SCAN_BATCH = 512;

/** `completeAt` of a store that may hold no row and has not looked yet (see {@link probeEmpty}). */
const UNPROBED = -2;
/** `completeAt` of a store whose cache is not known to hold every row. */
const INCOMPLETE = -1;

/** Raw bytes in, raw bytes out: for batches and bulk reads of rows on the backend's database. */
const VIEWS = { keyEncoding: 'view', valueEncoding: 'view' } as const;

/**
 * A committed value with its encoded size (and the cache's mark of use), or null for a key known
 * to be absent. A commit updates the row of a key in place when the row is the cache's.
 */
type Row = { value: unknown; size: number; used: boolean } | null;

interface StoreState {
  readonly operatorId: string;
  readonly db: StateDatabase;
  /** The sublevel of the rows, for scans and single reads. */
  readonly rows: RowsDb;
  /** The bytes before each row's key in `db`: batches and bulk reads go to `db` itself. */
  readonly prefix: Uint8Array;
  readonly metas: MetaDb;
  meta: StoreMeta;
  readonly staged: StagedWrites;
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

function decodeRow(s: StoreState, key: StoreKey, bytes: Uint8Array): NonNullable<Row> {
  try {
    return { value: decodeValue(bytes), size: bytes.byteLength, used: false };
  } catch (error) {
    throw new StateValueDecodeError(s.operatorId, key, error);
  }
}

function encodeRow(s: StoreState, key: StoreKey, value: unknown): Uint8Array {
  try {
    // LevelDB copies the bytes of a batch: they need no array of their own.
    return encodeValueShared(value);
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
    throw new TypeError(`State store '${s.operatorId}': the value of key 0x${hex(key)} cannot be stored: ${error.message}`, { cause: error });
  }
}

/** Empties `loaded` for the next version. */
function startVersion(s: StoreState): void {
  s.loaded.clear();
  s.pinnedAt = s.cache.drops;
}

/** The committed row of `key` if this version knows it (loaded or cached), else undefined. */
function knownRow(s: StoreState, key: StoreKey): Row | undefined {
  const row = s.loaded.get(key);
  return row !== undefined ? row : s.cache.get(key);
}

/**
 * Whether the store knows every committed row, so that a key it holds no row for has none in the
 * database: its cache held every row when the database was found to hold none (see
 * {@link probeEmpty}), has dropped none since, and every commit prepared since was confirmed
 * written (each puts its rows in the cache). Then reads of other keys need no database read.
 */
function knowsEveryRow(s: StoreState): boolean {
  return s.unconfirmed === 0 && s.completeAt === s.cache.drops;
}

/**
 * When the store may hold no row (opened on a meta entry of none, or a commit deleted them all)
 * and has not looked, looks: one seek into its range. Found empty, with no commit in between or
 * unconfirmed, the store knows every row from here (none; the cache is emptied of the absent keys
 * it held). The database is asked, not the meta entry: a row there that the store did not write
 * is read like any other.
 */
async function probeEmpty(s: StoreState): Promise<void> {
  if (s.completeAt !== UNPROBED || s.unconfirmed !== 0) return;
  const generation = s.generation;
  const found = await s.rows.keys({ limit: 1 }).all();
  if (s.completeAt !== UNPROBED || s.unconfirmed !== 0 || generation !== s.generation || s.closed) return;
  if (found.length > 0) {
    s.completeAt = INCOMPLETE;
  } else {
    s.cache.clear();
    s.completeAt = s.cache.drops;
  }
}

/** Opens a store on its state, and reads it back (the backend's way in; set by the store class). */
let openStore: (s: StoreState) => LevelStateStore;
let stateOf: (store: LevelStateStore) => StoreState;

/**
 * The {@link StateStore} of one operator in a LevelDB database (see {@link LevelStateBackend}):
 * committed values are read in bulk by `load` and kept decoded in a bounded LRU cache.
 */
export class LevelStateStore implements StateStore {
  #s!: StoreState;

  static {
    openStore = (s) => {
      const store = new LevelStateStore();
      store.#s = s;
      return store;
    };
    stateOf = (store) => store.#s;
  }

  private constructor() {}

  get version(): number {
    return this.#s.meta.version;
  }

  /** Whether writes are staged (the backend commits only such stores). */
  get hasStagedWrites(): boolean {
    return this.#s.staged.size > 0;
  }

  async load(keys: Iterable<StoreKey>): Promise<void> {
    const s = this.#open();
    if (s.completeAt === UNPROBED) await probeEmpty(s);
    const { loaded, cache } = s;
    if (knowsEveryRow(s)) {
      // A key the store holds no row for has none: no read. Pinning a key twice, or a staged
      // key (reads see its staged write first), pins the same committed row: no checks for them.
      for (const key of keys) {
        let row = cache.get(key);
        if (row === undefined) {
          checkStoreKey(key);
          row = null;
        }
        loaded.set(key, row);
      }
      return;
    }
    const staged = s.staged.size > 0 ? s.staged : undefined;
    const wanted: StoreKey[] = [];
    for (const key of keys) {
      if (loaded.has(key) || staged?.has(key) === true) continue;
      const row = cache.get(key);
      if (row !== undefined) {
        loaded.set(key, row);
      } else {
        checkStoreKey(key);
        wanted.push(key);
      }
    }
    if (wanted.length === 0) return;
    // In key order, LevelDB reads each block once for the keys in it: faster than the sort costs.
    // Sorted, a key listed twice is listed next to itself.
    wanted.sort();
    const list = wanted.filter((key, i) => key !== wanted[i - 1]);
    const generation = s.generation;
    const found = await s.db.getMany(prefixedKeys(s.prefix, list), VIEWS);
    if (generation !== s.generation) return this.load(list);
    for (let i = 0; i < list.length; i++) {
      const key = list[i] as StoreKey;
      const bytes = found[i] as Uint8Array | undefined;
      const row = bytes === undefined ? null : decodeRow(s, key, bytes);
      s.loaded.set(key, row);
      s.cache.set(key, row);
    }
  }

  get(key: StoreKey): unknown {
    const s = this.#s;
    if (s.staged.has(key)) {
      const staged = s.staged.get(key);
      return staged === DELETED ? undefined : staged;
    }
    const row = this.#committedRow(key);
    return row === null ? undefined : row.value;
  }

  has(key: StoreKey): boolean {
    const s = this.#s;
    return s.staged.has(key) ? s.staged.get(key) !== DELETED : this.#committedRow(key) !== null;
  }

  put(key: StoreKey, value: unknown): void {
    this.#open().staged.put(key, value);
  }

  delete(key: StoreKey): void {
    this.#open().staged.delete(key);
  }

  scan(range?: KeyRange): AsyncIterable<StoreEntry> {
    const s = this.#open();
    const bounds = keyBounds(range);
    const staged = s.staged.within(bounds);
    // Each staged write hides or replaces at most one committed entry.
    return mergeStaged(committedEntries(s, bounds, bounds.limit + staged.length), staged, bounds.limit);
  }

  async getCommitted(key: StoreKey): Promise<unknown> {
    const s = this.#open();
    checkStoreKey(key);
    let row = knownRow(s, key);
    if (row === undefined && knowsEveryRow(s)) row = null;
    if (row === undefined) {
      const generation = s.generation;
      const bytes = await s.rows.get(toBytes(key));
      row = bytes === undefined ? null : decodeRow(s, key, bytes);
      if (generation === s.generation) s.cache.set(key, row);
    }
    return row === null ? undefined : row.value;
  }

  scanCommitted(range?: KeyRange): AsyncIterable<StoreEntry> {
    const s = this.#open();
    const bounds = keyBounds(range);
    return committedEntries(s, bounds, bounds.limit);
  }

  async commit(): Promise<number> {
    const s = this.#open();
    const prepared = await prepareCommit(s);
    s.unconfirmed++;
    await writeBatch(s.db, prepared.operations);
    prepared.committed();
    return s.meta.version;
  }

  abort(): void {
    const s = this.#s;
    s.staged.clear();
    // A commit prepared and never confirmed may have been written: what the cache holds of the
    // keys it wrote may be stale. Reads go to the database from here (the store stays unconfirmed).
    if (s.unconfirmed > 0) s.cache.clear();
    startVersion(s);
  }

  stats(): StoreStats {
    const { rows, bytes } = this.#s.meta;
    return { rows, bytes };
  }

  close(): Promise<void> {
    const s = this.#s;
    if (!s.closed) {
      s.closed = true;
      s.staged.clear();
      s.loaded.clear();
      s.cache.clear();
      s.onClose();
    }
    return Promise.resolve();
  }

  #committedRow(key: StoreKey): Row {
    const s = this.#s;
    let row = s.loaded.get(key);
    if (row !== undefined) return row;
    row = s.cache.get(key);
    if (row === undefined) {
      throw new Error(`State store '${s.operatorId}': key 0x${hex(key)} was not loaded in this version; call load() with it before get() or has().`);
    }
    // Pin it for the rest of the version: loads of other keys may evict it from the cache.
    s.loaded.set(key, row);
    return row;
  }

  #open(): StoreState {
    if (this.#s.closed) throw new Error(`State store '${this.#s.operatorId}' is closed.`);
    return this.#s;
  }
}

/** Committed entries within `bounds` in key order, read from the database in batches. */
async function* committedEntries(s: StoreState, bounds: KeyBounds, limit: number): AsyncGenerator<StoreEntry, void, undefined> {
  if (limit <= 0 || (bounds.gte !== undefined && bounds.lt !== undefined && bounds.gte >= bounds.lt)) return;
  const iterator = s.rows.iterator({
    ...(bounds.gte === undefined ? {} : { gte: toBytes(bounds.gte) }),
    ...(bounds.lt === undefined ? {} : { lt: toBytes(bounds.lt) }),
    ...(limit === Infinity ? {} : { limit }),
  });
  try {
    for (;;) {
      const entries = await iterator.nextv(SCAN_BATCH);
      if (entries.length === 0) return;
      for (const [bytes, value] of entries) {
        const key = bytes.toString('latin1');
        yield [key, decodeRow(s, key, value).value];
      }
    }
  } finally {
    await iterator.close();
  }
}

/**
 * Prepares the writes that make the staged writes of `s` its next version, with its meta entry.
 * The rows and bytes of the meta entry stay exact: the previous size of every staged key comes
 * from what the store knows, and the keys it does not know are read in one `getMany` (none when
 * it knows every row). Rows are written to the backend's database as raw bytes (the rows prefix,
 * then the key), all keys in one buffer and all values in the codec's shared one.
 *
 * The caller counts the commit as unconfirmed (`s.unconfirmed`) once it may write it; `committed()`
 * confirms it.
 */
async function prepareCommit(s: StoreState): Promise<PreparedStateCommit> {
  if (s.completeAt === UNPROBED) await probeEmpty(s);
  const n = s.staged.size;
  const keys = new Array<StoreKey>(n);
  const writes = new Array<unknown>(n);
  /** What the version knows of each key's committed row (undefined: nothing). */
  const known = new Array<Row | undefined>(n);
  const absent = knowsEveryRow(s);
  let unknown: number[] | undefined;
  let i = 0;
  s.staged.forEach((write, key) => {
    keys[i] = key;
    writes[i] = write;
    const row = knownRow(s, key);
    known[i] = row === undefined && absent ? null : row;
    if (known[i] === undefined) (unknown ??= []).push(i);
    i++;
  });
  /** The encoded size of each unknown key's committed row, by index (absent: none). */
  let unknownSizes: Map<number, number> | undefined;
  if (unknown !== undefined) {
    const found = await s.db.getMany(prefixedKeys(s.prefix, unknown.map((j) => keys[j] as StoreKey)), VIEWS);
    unknownSizes = new Map();
    for (const [j, index] of unknown.entries()) {
      const bytes = found[j] as Uint8Array | undefined;
      if (bytes !== undefined) unknownSizes.set(index, bytes.byteLength);
    }
  }
  const keyBytes = prefixedKeys(s.prefix, keys);
  let { rows, bytes } = s.meta;
  const operations = new Array<StateBatchOperation>(n + 1);
  /** The encoded size of each key's new row (-1: deleted). */
  const sizes = new Array<number>(n);
  for (let j = 0; j < n; j++) {
    const key = keys[j] as StoreKey;
    const write = writes[j];
    const row = known[j];
    const oldSize = row === undefined ? unknownSizes?.get(j) : row === null ? undefined : row.size;
    if (oldSize !== undefined) {
      rows--;
      bytes -= key.length + oldSize;
    }
    if (write === DELETED) {
      operations[j] = { type: 'del', sublevel: s.db, key: keyBytes[j] as Uint8Array, keyEncoding: 'view' };
      sizes[j] = -1;
    } else {
      const value = encodeRow(s, key, write);
      operations[j] = { type: 'put', sublevel: s.db, key: keyBytes[j] as Uint8Array, value, keyEncoding: 'view', valueEncoding: 'view' };
      sizes[j] = value.byteLength;
      rows++;
      bytes += key.length + value.byteLength;
    }
  }
  const meta: StoreMeta = { version: s.meta.version + 1, rows, bytes };
  operations[n] = { type: 'put', sublevel: s.metas, key: s.operatorId, value: meta };
  let confirmed = false;
  return {
    operations,
    committed: () => {
      if (confirmed) return;
      confirmed = true;
      s.unconfirmed--;
      s.meta = meta;
      s.generation++;
      const cache = s.cache;
      // Nothing dropped since the version started: each row it knew is still the cache's entry.
      const inPlace = cache.drops === s.pinnedAt;
      for (let j = 0; j < n; j++) {
        const key = keys[j] as StoreKey;
        const size = sizes[j] as number;
        const row = known[j];
        if (size < 0) {
          // A cache that holds every row needs no entry to know a deleted key is absent.
          if (knowsEveryRow(s)) cache.delete(key);
          else cache.set(key, null);
        } else if (inPlace && row != null) {
          row.value = writes[j];
          row.size = size;
          row.used = true;
        } else {
          cache.set(key, { value: writes[j], size, used: false });
        }
      }
      // No row left: worth looking again whether the cache can stand for the database.
      if (meta.rows === 0 && s.completeAt !== cache.drops) s.completeAt = UNPROBED;
      s.staged.clear();
      startVersion(s);
    },
  };
}

/** The arrays one after the other: the only one itself (no copy of a big batch), else a new one. */
function joined<T>(arrays: readonly T[][]): T[] {
  if (arrays.length === 1) return arrays[0] as T[];
  const out: T[] = [];
  for (const array of arrays) for (const item of array) out.push(item);
  return out;
}

function checkCacheSize({ cacheSize = DEFAULT_CACHE_SIZE }: LevelStateBackendOptions): number {
  if (!Number.isSafeInteger(cacheSize) || cacheSize < 0) throw new RangeError(`LevelStateBackend: cacheSize must be a non-negative integer, got ${cacheSize}.`);
  return cacheSize;
}

/**
 * The {@link StateBackend} that keeps every operator's state in one LevelDB database: the rows of
 * operator `id` in sublevel `state` → `id` (keys are the store keys' bytes, values the value
 * codec's bytes), its version, row count and byte count as JSON under key `id` of sublevel
 * `state-meta` (see `level-layout.ts`). A commit writes the staged rows of every store and their
 * meta entries in one atomic batch; if it fails, no store changes.
 *
 * @example
 * const backend = await LevelStateBackend.open('./state');
 * const store = await backend.open('counts');
 */
export class LevelStateBackend implements StateBackend {
  readonly kind = 'leveldb';
  readonly #db: StateDatabase;
  readonly #metas: MetaDb;
  readonly #cacheSize: number;
  readonly #stores = new Map<string, LevelStateStore>();
  readonly #opening = new Map<string, Promise<LevelStateStore>>();
  #ownsDb = false;
  #closed = false;

  private constructor(db: StateDatabase, cacheSize: number) {
    this.#db = db;
    this.#metas = metaOf(db);
    this.#cacheSize = cacheSize;
  }

  /** How many committed values each store keeps in memory (the `cacheSize` option). */
  get cacheSize(): number {
    return this.#cacheSize;
  }

  /**
   * A backend on the database at `path`, which it opens (creating it if needed) and closes on
   * `close()`.
   *
   * @throws RangeError when `cacheSize` is not a non-negative integer.
   */
  static async open(path: string, options: LevelStateBackendOptions = {}): Promise<LevelStateBackend> {
    const cacheSize = checkCacheSize(options);
    const db = new Level<unknown, unknown>(path);
    const backend = new LevelStateBackend(db, cacheSize);
    await db.open();
    backend.#ownsDb = true;
    return backend;
  }

  /**
   * A backend on a database that the caller opened and keeps: `close()` leaves it open. Its
   * default encodings do not matter.
   *
   * @throws RangeError when `cacheSize` is not a non-negative integer.
   * @example const backend = LevelStateBackend.fromDatabase(checkpointDb);
   */
  static fromDatabase<K, V>(db: Level<K, V>, options: LevelStateBackendOptions = {}): LevelStateBackend {
    return new LevelStateBackend(db as unknown as StateDatabase, checkCacheSize(options));
  }

  /** The store of `operatorId` (the same object while it is open), at its last committed version. */
  open(operatorId: string): Promise<LevelStateStore> {
    if (typeof operatorId !== 'string' || operatorId === '') {
      return Promise.reject(new TypeError('LevelStateBackend.open: the operator id must be a non-empty string.'));
    }
    if (this.#closed) return Promise.reject(new Error('LevelStateBackend.open: the backend is closed.'));
    const store = this.#stores.get(operatorId);
    if (store !== undefined) return Promise.resolve(store);
    let opening = this.#opening.get(operatorId);
    if (opening === undefined) {
      opening = this.#openStore(operatorId).finally(() => this.#opening.delete(operatorId));
      this.#opening.set(operatorId, opening);
    }
    return opening;
  }

  /**
   * Prepares the commit of every store with staged writes, for a caller that writes the
   * operations in its own atomic batch on this backend's database (or an ancestor of it).
   */
  async prepareCommit(_batchId: number): Promise<PreparedStateCommit> {
    const states = [...this.#stores.values()].map(stateOf);
    const writing = states.filter((s) => s.staged.size > 0);
    const prepared = await Promise.all(writing.map(prepareCommit));
    // From here the caller may write them: until it confirms, the stores trust no absence.
    for (const s of writing) s.unconfirmed++;
    return {
      operations: joined(prepared.map((p) => p.operations)),
      committed: () => {
        for (const p of prepared) p.committed();
        // Stores without writes keep their version, but their next batch loads afresh.
        for (const s of states) startVersion(s);
      },
    };
  }

  /** Writes the staged writes of every store, and their meta entries, in one LevelDB batch. */
  async commit(batchId: number): Promise<void> {
    if (this.#closed) throw new Error('LevelStateBackend.commit: the backend is closed.');
    const prepared = await this.prepareCommit(batchId);
    if (prepared.operations.length > 0) await writeBatch(this.#db, prepared.operations);
    prepared.committed();
  }

  abort(_batchId: number): void {
    for (const store of this.#stores.values()) store.abort();
  }

  /** Closes every store, and the database if the backend opened it. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.allSettled(this.#opening.values());
    await Promise.all([...this.#stores.values()].map((store) => store.close()));
    if (this.#ownsDb) await this.#db.close();
  }

  async #openStore(operatorId: string): Promise<LevelStateStore> {
    let meta: unknown;
    try {
      meta = await this.#metas.get(operatorId);
    } catch (error) {
      throw new Error(`State store '${operatorId}': cannot read its meta entry.`, { cause: error });
    }
    if (this.#closed) throw new Error('LevelStateBackend.open: the backend was closed while the store opened.');
    const rows = rowsOf(this.#db, operatorId);
    const committed = meta === undefined ? EMPTY_META : checkMeta(operatorId, meta);
    const store = openStore({
      operatorId,
      db: this.#db,
      rows,
      prefix: rowsPrefix(this.#db, rows),
      metas: this.#metas,
      meta: committed,
      staged: new StagedWrites(),
      loaded: new Map(),
      cache: new LruCache(this.#cacheSize),
      pinnedAt: 0,
      generation: 0,
      completeAt: committed.rows === 0 ? UNPROBED : INCOMPLETE,
      unconfirmed: 0,
      closed: false,
      onClose: () => {
        if (this.#stores.get(operatorId) === store) this.#stores.delete(operatorId);
      },
    });
    this.#stores.set(operatorId, store);
    return store;
  }
}
