/*
 * The LevelDB state backend: opens the operators' stores on one database and commits them
 * together. The stores' own code, and the commit path both share, is in level-state-store.ts.
 */
import { getHeapStatistics } from 'node:v8';
import { Level } from 'level';
import { SluiceError } from 'sluice';
import type { PendingCommit } from '../core/extend.js';
import { messageOf } from '../core/internal.js';
import { checkMeta, EMPTY_META, metaOf, rowsOf, rowsPrefix, writeBatch, type MetaDb, type StateBatchOperation, type StateDatabase } from './level-layout.js';
import { openStore, prepareCommit, stateOf, type LevelStateStore } from './level-state-store.js';
import { INCOMPLETE, startVersion, UNPROBED, type Row } from './level-store-state.js';
import { CacheBudget } from './cache-budget.js';
import { LruCache } from './lru-cache.js';
import { backendClosed, capitalized, CORRUPT_ADVICE, isDamage, rootCause, stateIoFailed } from './state-errors.js';
import { StagedWrites } from './staged-writes.js';
import type { StateBackend, StoreKey } from './state-store.js';

/** Options of {@link LevelStateBackend}. */
export interface LevelStateBackendOptions {
  /**
   * The most committed values each store keeps decoded in memory, known-absent keys included: a
   * count per store, instead of (or, with `cacheBytes`, beside) the byte budget. Default: no count,
   * the byte budget alone.
   */
  readonly cacheSize?: number;
  /**
   * The bytes the stores' caches may hold together, shared by every stateful operator on the
   * backend: an entry counts its key, its encoded value and 100 bytes of overhead, and when the
   * budget is full the store holding the most evicts its oldest entries. Default
   * {@link defaultStateCacheBytes} (a quarter of the heap limit) when `cacheSize` is not given.
   */
  readonly cacheBytes?: number;
}

/** The count of the state caches of versions before the byte budget; a `cacheSize` of it keeps that behaviour. */
export const DEFAULT_STATE_CACHE_SIZE = 100_000;

/** What a cache entry counts for in the byte budget, besides its key and encoded value. */
const ENTRY_OVERHEAD = 100;

/** The byte budget of the state caches by default: a quarter of V8's heap limit. */
export function defaultStateCacheBytes(): number {
  return Math.floor(getHeapStatistics().heap_size_limit / 4);
}

/** The checked cache settings of a backend: a count per store (`Infinity`: none) and a shared byte budget (or none). */
interface CacheSettings {
  readonly size: number;
  readonly bytes: number | undefined;
}

/** The writes of a commit, prepared but not yet written. */
export interface PreparedStateCommit {
  /**
   * Operations for one `batch` on the backend's database (they name their sublevels): a new array
   * for this commit, to which the caller may add its own operations.
   */
  readonly operations: StateBatchOperation[];
  /** Makes the stores reflect the commit; call it once the operations are written. */
  committed(): void;
  /**
   * Pipelined commit: the stores' next version starts now, reading the commit's writes as if they
   * were committed; `committed()` still follows once they are written.
   */
  handOff(): void;
}

/** The arrays one after the other: the only one itself (no copy of a big batch), else a new one. */
function joined<T>(arrays: readonly T[][]): T[] {
  if (arrays.length === 1) return arrays[0] as T[];
  const out: T[] = [];
  for (const array of arrays) for (const item of array) out.push(item);
  return out;
}

/**
 * A backend on the database of the checkpoint at `directory` whose commits go into the checkpoint's
 * atomic write, and whose damaged state is `CHECKPOINT_CORRUPT` (for `sluice/checkpoint`).
 */
export let inCheckpoint: <K, V>(db: Level<K, V>, options: LevelStateBackendOptions, directory: string) => LevelStateBackend;

/** The error of a database at `path` that LevelDB could not open. */
function openFailed(path: string, error: unknown): SluiceError {
  const damaged = isDamage(error);
  return new SluiceError(
    damaged ? 'STATE_CORRUPT' : 'STATE_IO_FAILED',
    damaged
      ? `The state database at ${path} is damaged: ${messageOf(rootCause(error))}. ${CORRUPT_ADVICE}.`
      : `The state database at ${path} cannot be opened: ${messageOf(rootCause(error))}. Check the path and its permissions, and that no other process has it open.`,
    { cause: error },
  );
}

function checkCacheSize({ cacheSize, cacheBytes }: LevelStateBackendOptions): CacheSettings {
  if (cacheSize !== undefined && (!Number.isSafeInteger(cacheSize) || cacheSize < 0)) throw new RangeError(`LevelStateBackend: cacheSize must be a non-negative integer, got ${cacheSize}.`);
  if (cacheBytes !== undefined && (!Number.isSafeInteger(cacheBytes) || cacheBytes < 0)) throw new RangeError(`LevelStateBackend: cacheBytes must be a non-negative integer, got ${cacheBytes}.`);
  return { size: cacheSize ?? Number.POSITIVE_INFINITY, bytes: cacheBytes ?? (cacheSize === undefined ? defaultStateCacheBytes() : undefined) };
}

/** What a cached row counts for in the byte budget. */
const rowBytes = (key: StoreKey, row: Row | undefined): number => ENTRY_OVERHEAD + key.length + (row?.size ?? 0);

/**
 * The {@link StateBackend} that keeps every operator's state in one LevelDB database: the rows of
 * operator `id` in sublevel `state` → `id` (keys are the store keys' bytes, values the value
 * codec's bytes), its version, row count and byte count as JSON under key `id` of sublevel
 * `state-meta` (see `level-layout.ts`). A batch's commit writes the staged rows of every store and
 * their meta entries in one atomic batch (in `prepare`; the stores move to the new version when
 * told `committed`); if it fails, no store changes. In a checkpoint the same operations go into
 * the checkpoint's own atomic write instead.
 *
 * @example
 * const backend = await LevelStateBackend.open('./state');
 * const store = await backend.open('counts');
 */
export class LevelStateBackend implements StateBackend {
  readonly kind = 'leveldb';
  readonly name = 'the LevelDB state backend';
  readonly #db: StateDatabase;
  readonly #metas: MetaDb;
  readonly #cacheSize: number;
  readonly #budget: CacheBudget | undefined;
  readonly #stores = new Map<string, LevelStateStore>();
  readonly #opening = new Map<string, Promise<LevelStateStore>>();
  /** The directory of the checkpoint whose atomic write writes the operations, rather than the backend. */
  readonly #checkpoint: string | undefined;
  #prepared: { readonly batchId: number; readonly commit: PreparedStateCommit } | undefined;
  #ownsDb = false;
  #closed = false;

  private constructor(db: StateDatabase, cache: CacheSettings, checkpoint: string | undefined) {
    this.#db = db;
    this.#metas = metaOf(db);
    this.#cacheSize = cache.size;
    this.#budget = cache.bytes === undefined ? undefined : new CacheBudget(cache.bytes);
    this.#checkpoint = checkpoint;
  }

  static {
    inCheckpoint = (db, options, directory) => new LevelStateBackend(db as unknown as StateDatabase, checkCacheSize(options), directory);
  }

  /** How many committed values each store keeps in memory at most (the `cacheSize` option; `Infinity` without one). */
  get cacheSize(): number {
    return this.#cacheSize;
  }

  /** The bytes the stores' caches may hold together (`undefined`: no byte budget), and hold now. */
  get cacheBytes(): { readonly limit: number; readonly used: number } | undefined {
    return this.#budget === undefined ? undefined : { limit: this.#budget.limit, used: this.#budget.total };
  }

  /**
   * A backend on the database at `path`, which it opens (creating it if needed) and closes on
   * `close()`.
   *
   * @throws RangeError when `cacheSize` is not a non-negative integer; SluiceError
   * `STATE_IO_FAILED` when LevelDB cannot open the database (another process holds it, no
   * permission), `STATE_CORRUPT` when it finds the database damaged.
   */
  static async open(path: string, options: LevelStateBackendOptions = {}): Promise<LevelStateBackend> {
    const cache = checkCacheSize(options);
    const db = new Level<unknown, unknown>(path);
    const backend = new LevelStateBackend(db, cache, undefined);
    try {
      await db.open();
    } catch (error) {
      throw openFailed(path, error);
    }
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
    return new LevelStateBackend(db as unknown as StateDatabase, checkCacheSize(options), undefined);
  }

  /** The store of `operatorId` (the same object while it is open), at its last committed version. */
  open(operatorId: string): Promise<LevelStateStore> {
    if (typeof operatorId !== 'string' || operatorId === '') {
      return Promise.reject(new TypeError('LevelStateBackend.open: the operator id must be a non-empty string.'));
    }
    if (this.#closed) return Promise.reject(backendClosed(this.name, `open the store of '${operatorId}'`, operatorId));
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
   * Prepares the staged writes of every store, and their meta entries, as one atomic batch: in a
   * checkpoint they go into its atomic write, otherwise the backend writes them itself here. On a
   * commit that does not persist state they stay staged.
   *
   * @throws SluiceError `STATE_IO_FAILED` when the backend is closed or a store cannot read what
   * it needs, `COMMIT_FAILED` when the backend's own atomic write fails (nothing of it is written).
   */
  async prepare(commit: PendingCommit): Promise<void> {
    if (this.#closed) throw backendClosed(this.name, `commit the state of batch ${commit.batchId}`);
    if (!commit.persistsState) return;
    const prepared = await this.#prepareCommit();
    this.#prepared = { batchId: commit.batchId, commit: prepared };
    if (prepared.operations.length === 0) return;
    if (this.#checkpoint !== undefined) {
      commit.write(prepared.operations);
      return;
    }
    try {
      await writeBatch(this.#db, prepared.operations);
    } catch (error) {
      throw new SluiceError('COMMIT_FAILED', `${capitalized(this.name)} could not write the state of batch ${commit.batchId}: ${messageOf(error)}. Nothing of it was written.`, { batchId: commit.batchId, cause: error });
    }
  }

  /** The stores move to the version the batch wrote. */
  committed(batchId: number): void {
    const prepared = this.#prepared;
    if (prepared?.batchId !== batchId) return;
    this.#prepared = undefined;
    prepared.commit.committed();
  }

  /**
   * Pipelined commit: the stores' next version reads the batch's writes (staged until now) while
   * they are written; the cache takes them once `committed`.
   */
  handOff(batchId: number): void {
    if (this.#prepared?.batchId === batchId) this.#prepared.commit.handOff();
  }

  /** Drops the staged writes of every store (the batch failed). */
  aborted(_batchId: number): void {
    this.#prepared = undefined;
    for (const store of this.#stores.values()) store.abort();
  }

  async #prepareCommit(): Promise<PreparedStateCommit> {
    const states = [...this.#stores.values()].map(stateOf);
    const writing = states.filter((s) => s.staged.size > 0);
    const prepared = await Promise.all(writing.map(prepareCommit));
    // From here the caller may write them: until it confirms, the stores trust no absence.
    for (const s of writing) s.unconfirmed++;
    let handedOff = false;
    return {
      operations: joined(prepared.map((p) => p.operations)),
      committed: () => {
        for (const p of prepared) p.committed();
        // Stores without writes keep their version, but their next batch loads afresh (handed off: it already does).
        if (!handedOff) for (const s of states) startVersion(s);
      },
      handOff: () => {
        handedOff = true;
        const written = new Set(writing);
        for (const s of states) if (!written.has(s)) startVersion(s);
        for (const p of prepared) p.handOff();
      },
    };
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
      throw stateIoFailed(operatorId, 'read its meta entry', error, this.#checkpoint);
    }
    if (this.#closed) throw backendClosed(this.name, `open the store of '${operatorId}'`, operatorId);
    const rows = rowsOf(this.#db, operatorId);
    const committed = meta === undefined ? EMPTY_META : checkMeta(operatorId, meta, this.#checkpoint);
    const cache = new LruCache<StoreKey, Row>(this.#cacheSize, this.#budget === undefined ? undefined : { budget: this.#budget, sizeOf: rowBytes });
    const store = openStore({
      operatorId,
      checkpoint: this.#checkpoint,
      db: this.#db,
      rows,
      prefix: rowsPrefix(this.#db, rows),
      metas: this.#metas,
      meta: committed,
      staged: new StagedWrites(),
      handedOff: undefined,
      loaded: new Map(),
      cache,
      pinnedAt: 0,
      generation: 0,
      completeAt: committed.rows === 0 ? UNPROBED : INCOMPLETE,
      unconfirmed: 0,
      closed: false,
      onClose: () => {
        cache.release();
        if (this.#stores.get(operatorId) === store) this.#stores.delete(operatorId);
      },
    });
    this.#stores.set(operatorId, store);
    return store;
  }
}
