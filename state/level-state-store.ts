/*
 * Over 400 lines because the store and its backend share one commit path (a store's own commit
 * and the backend's atomic commit of all stores prepare their writes the same way).
 */
import { Level } from 'level';
import { checkMeta, EMPTY_META, hex, metaOf, rowsOf, StateValueDecodeError, toBytes, writeBatch, type MetaDb, type RowsDb, type StateBatchOperation, type StateDatabase, type StoreMeta } from './level-layout.js';
import { checkStoreKey, keyBounds, type KeyBounds } from './key-range.js';
import { LruCache } from './lru-cache.js';
import { DELETED, mergeStaged, StagedWrites, type StoreEntry } from './staged-writes.js';
import type { KeyRange, StateBackend, StateStore, StoreKey, StoreStats } from './state-store.js';
import { decodeValue, encodeValue } from './value-codec.js';

export { StateValueDecodeError, type StateBatchOperation, type StoreMeta } from './level-layout.js';

/** Options of {@link LevelStateBackend}. */
export interface LevelStateBackendOptions {
  /** Committed values each store keeps decoded in memory, known-absent keys included (default 100,000). */
  readonly cacheSize?: number;
}

/** The writes of a commit, prepared but not yet written (see {@link LevelStateBackend.prepareCommit}). */
export interface PreparedStateCommit {
  /** Operations for one `batch` on the backend's database (they name their sublevels). */
  readonly operations: readonly StateBatchOperation[];
  /** Makes the stores reflect the commit; call it once the operations are written. */
  committed(): void;
}

const SCAN_BATCH = 512;

/** A committed value with its encoded size, or null for a key known to be absent. */
type Row = { readonly value: unknown; readonly size: number } | null;

interface StoreState {
  readonly operatorId: string;
  readonly db: StateDatabase;
  readonly rows: RowsDb;
  readonly metas: MetaDb;
  meta: StoreMeta;
  readonly staged: StagedWrites;
  /** Committed rows readable by `get` in the version being built. */
  readonly loaded: Map<StoreKey, Row>;
  readonly cache: LruCache<StoreKey, Row>;
  /** Bumped by every commit, so a read that raced one does not cache what it read. */
  generation: number;
  closed: boolean;
  readonly onClose: () => void;
}

function decodeRow(s: StoreState, key: StoreKey, bytes: Uint8Array): NonNullable<Row> {
  try {
    return { value: decodeValue(bytes), size: bytes.byteLength };
  } catch (error) {
    throw new StateValueDecodeError(s.operatorId, key, error);
  }
}

function encodeRow(s: StoreState, key: StoreKey, value: unknown): Uint8Array {
  try {
    return encodeValue(value);
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
    throw new TypeError(`State store '${s.operatorId}': the value of key 0x${hex(key)} cannot be stored: ${error.message}`, { cause: error });
  }
}

/** The committed row of `key` if this version knows it (loaded or cached), else undefined. */
function knownRow(s: StoreState, key: StoreKey): Row | undefined {
  const row = s.loaded.get(key);
  return row !== undefined ? row : s.cache.get(key);
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
    const missing = new Set<StoreKey>();
    for (const key of keys) {
      if (s.staged.has(key) || s.loaded.has(key) || missing.has(key)) continue;
      const row = s.cache.get(key);
      if (row !== undefined) {
        s.loaded.set(key, row);
      } else {
        checkStoreKey(key);
        missing.add(key);
      }
    }
    if (missing.size === 0) return;
    const list = [...missing];
    const generation = s.generation;
    const found = await s.rows.getMany(list.map(toBytes));
    if (generation !== s.generation) return this.load(list);
    for (let i = 0; i < list.length; i++) {
      const key = list[i] as StoreKey;
      const bytes = found[i];
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
    await writeBatch(s.db, prepared.operations);
    prepared.committed();
    return s.meta.version;
  }

  abort(): void {
    this.#s.staged.clear();
    this.#s.loaded.clear();
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
 * from what the store knows, and the keys it does not know are read in one `getMany`.
 */
async function prepareCommit(s: StoreState): Promise<PreparedStateCommit> {
  const writes = [...s.staged.entries()];
  const unknown = writes.filter(([key]) => knownRow(s, key) === undefined).map(([key]) => key);
  // An empty store has no row to look for.
  const found = unknown.length === 0 || s.meta.rows === 0 ? [] : await s.rows.getMany(unknown.map(toBytes));
  const sizeOf = new Map(unknown.map((key, i) => [key, found[i]?.byteLength]));
  let { rows, bytes } = s.meta;
  const operations: StateBatchOperation[] = [];
  const after: [StoreKey, Row][] = [];
  for (const [key, write] of writes) {
    const known = knownRow(s, key);
    const oldSize = known === undefined ? sizeOf.get(key) : known === null ? undefined : known.size;
    if (oldSize !== undefined) {
      rows--;
      bytes -= key.length + oldSize;
    }
    if (write === DELETED) {
      operations.push({ type: 'del', sublevel: s.rows, key: toBytes(key) });
      after.push([key, null]);
    } else {
      const value = encodeRow(s, key, write);
      operations.push({ type: 'put', sublevel: s.rows, key: toBytes(key), value });
      after.push([key, { value: write, size: value.byteLength }]);
      rows++;
      bytes += key.length + value.byteLength;
    }
  }
  const meta: StoreMeta = { version: s.meta.version + 1, rows, bytes };
  operations.push({ type: 'put', sublevel: s.metas, key: s.operatorId, value: meta });
  return {
    operations,
    committed: () => {
      s.meta = meta;
      s.generation++;
      for (const [key, row] of after) s.cache.set(key, row);
      s.staged.clear();
      s.loaded.clear();
    },
  };
}

function checkCacheSize({ cacheSize = 100_000 }: LevelStateBackendOptions): number {
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
    const prepared = await Promise.all(states.filter((s) => s.staged.size > 0).map(prepareCommit));
    return {
      operations: prepared.flatMap((p) => p.operations),
      committed: () => {
        for (const p of prepared) p.committed();
        // Stores without writes keep their version, but their next batch loads afresh.
        for (const s of states) s.loaded.clear();
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
    const store = openStore({
      operatorId,
      db: this.#db,
      rows: rowsOf(this.#db, operatorId),
      metas: this.#metas,
      meta: meta === undefined ? EMPTY_META : checkMeta(operatorId, meta),
      staged: new StagedWrites(),
      loaded: new Map(),
      cache: new LruCache(this.#cacheSize),
      generation: 0,
      closed: false,
      onClose: () => {
        if (this.#stores.get(operatorId) === store) this.#stores.delete(operatorId);
      },
    });
    this.#stores.set(operatorId, store);
    return store;
  }
}
