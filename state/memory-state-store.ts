import type { PendingCommit } from '../core/extend.js';
import { keyBounds } from './key-range.js';
import { SortedKeyIndex } from './sorted-key-index.js';
import { DELETED, mergeStaged, StagedWrites, type StoreEntry } from './staged-writes.js';
import { backendClosed, storeClosed } from './state-errors.js';
import type { KeyRange, StateBackend, StateStore, StoreKey, StoreStats } from './state-store.js';

/**
 * A commit keeps the key index up to date only when a scan used it at the version being committed
 * or at the one before (`version - scannedAt < IDLE_VERSIONS`); otherwise the commit drops the
 * index, and the next scan builds it again. So the index survives one batch with no scan: an
 * operator that scans every batch or every other batch never rebuilds it, and one that stops
 * scanning pays for it in at most two more commits (the second commit in a row with no scan
 * before it, since the commit before, drops it).
 */
const IDLE_VERSIONS = 2;

/** The committed state of one operator in memory: it outlives the store objects opened on it. */
class MemoryTable {
  readonly values = new Map<StoreKey, unknown>();
  /** Committed rows per namespace (first character of the key); a namespace with none has no entry. */
  readonly namespaces = new Map<string, number>();
  /**
   * The keys of `values` in order, for scans: built by the first scan, kept up to date by commits
   * while scans use it, dropped by a commit when they stop (see {@link IDLE_VERSIONS}).
   */
  index: SortedKeyIndex | undefined = undefined;
  /** The version at which a scan last started or moved. */
  scannedAt = 0;
  version = 0;

  /** The key index, built from the keys (one sort) when there is none; marks the table scanned. */
  indexForScan(): SortedKeyIndex {
    this.scannedAt = this.version;
    // The default sort orders strings by UTF-16 code units, as `<` does.
    return (this.index ??= SortedKeyIndex.fromSorted([...this.values.keys()].sort()));
  }
}

/** Opens a store on an operator's table (the backend's way in; set by the store class). */
let openTable: (table: MemoryTable, operatorId: string, onClose: () => void) => MemoryStateStore;

/**
 * A {@link StateStore} that keeps everything in memory: the committed values in a map, the staged
 * writes in another map. Values are kept as given (never copied or serialized). `load` has nothing
 * to do, so `get` and `has` answer for any key.
 *
 * Scans walk a sorted index of the committed keys, which only scans need: the first scan builds it
 * (one sort of the keys), commits keep it up to date while scans go on (O(log n + chunk) per key
 * added or deleted), and a commit drops it once the table goes two commits in a row with no scan before them
 * (see {@link IDLE_VERSIONS}), so a store that is never scanned pays nothing for it.
 *
 * Staging, scanning or committing on a closed store throws a SluiceError `STATE_IO_FAILED`.
 *
 * @example
 * const store = new MemoryStateStore();
 * store.put(key, { count: 1 });
 * await store.commit(); // 1
 */
export class MemoryStateStore implements StateStore {
  #table = new MemoryTable();
  #operatorId: string | undefined;
  #onClose: (() => void) | undefined;
  readonly #staged = new StagedWrites();
  #closed = false;

  static {
    openTable = (table, operatorId, onClose) => {
      const store = new MemoryStateStore();
      store.#table = table;
      store.#operatorId = operatorId;
      store.#onClose = onClose;
      return store;
    };
  }

  get version(): number {
    return this.#table.version;
  }

  /** Always true: nothing survives the process. */
  get inMemory(): boolean {
    return true;
  }

  /** Whether writes are staged (the backend commits only such stores). */
  get hasStagedWrites(): boolean {
    return this.#staged.size > 0;
  }

  load(_keys: Iterable<StoreKey>): Promise<void> {
    return Promise.resolve();
  }

  get(key: StoreKey): unknown {
    if (this.#staged.has(key)) {
      const staged = this.#staged.get(key);
      return staged === DELETED ? undefined : staged;
    }
    return this.#table.values.get(key);
  }

  has(key: StoreKey): boolean {
    return this.#staged.has(key) ? this.#staged.get(key) !== DELETED : this.#table.values.has(key);
  }

  put(key: StoreKey, value: unknown): void {
    this.#checkOpen('stage a write');
    this.#staged.put(key, value);
  }

  delete(key: StoreKey): void {
    this.#checkOpen('stage a write');
    this.#staged.delete(key);
  }

  scan(range?: KeyRange): AsyncIterable<StoreEntry> {
    this.#checkOpen('scan');
    const bounds = keyBounds(range);
    return mergeStaged(this.#committed(bounds.gte, bounds.lt), this.#staged.within(bounds), bounds.limit);
  }

  getCommitted(key: StoreKey): Promise<unknown> {
    return Promise.resolve(this.#table.values.get(key));
  }

  scanCommitted(range?: KeyRange): AsyncIterable<StoreEntry> {
    this.#checkOpen('scan');
    const bounds = keyBounds(range);
    return mergeStaged(this.#committed(bounds.gte, bounds.lt), [], bounds.limit);
  }

  commit(): Promise<number> {
    if (this.#closed) return Promise.reject(storeClosed(this.#operatorId, 'commit'));
    return Promise.resolve(this.commitStaged());
  }

  /** {@link MemoryStateStore.commit}, synchronously: the staged writes become the next version, returned. */
  commitStaged(): number {
    const table = this.#table;
    const values = table.values;
    if (table.index !== undefined && table.version - table.scannedAt >= IDLE_VERSIONS) table.index = undefined;
    const index = table.index;
    const namespaces = table.namespaces;
    for (const [key, staged] of this.#staged.entries()) {
      const namespace = key.charAt(0);
      if (staged === DELETED) {
        if (!values.delete(key)) continue;
        index?.delete(key);
        const left = (namespaces.get(namespace) as number) - 1;
        if (left > 0) namespaces.set(namespace, left);
        else namespaces.delete(namespace);
      } else {
        if (!values.has(key)) {
          index?.add(key);
          namespaces.set(namespace, (namespaces.get(namespace) ?? 0) + 1);
        }
        values.set(key, staged);
      }
    }
    this.#staged.clear();
    return ++table.version;
  }

  abort(): void {
    this.#staged.clear();
  }

  stats(): StoreStats {
    return { rows: this.#table.values.size, bytes: undefined, namespaces: Object.fromEntries(this.#table.namespaces) };
  }

  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#staged.clear();
      this.#onClose?.();
    }
    return Promise.resolve();
  }

  /**
   * The committed entries `gte <= key < lt` in key order. Like a walk of the index, a scan paused
   * across commits goes on from the first key above the last one it gave, in the committed state
   * at the time it resumes: it never repeats a key nor gives one deleted before it got there, and
   * it gives the keys committed ahead of it. This holds when a commit dropped the index while the
   * scan was paused (the third commit it is paused across does, if no other scan ran): the scan
   * then goes on in the table's current index, which it builds if no other scan did, never in the
   * dropped one, which commits no longer update. Each step marks the table scanned, so a scan that
   * moves between commits keeps the index.
   */
  *#committed(gte: StoreKey | undefined, lt: StoreKey | undefined): Generator<StoreEntry, void, undefined> {
    const table = this.#table;
    const values = table.values;
    let index = table.indexForScan();
    let walk = index.keys(gte, lt);
    let last: StoreKey | undefined;
    for (;;) {
      if (table.index === index) {
        table.scannedAt = table.version;
      } else {
        index = table.indexForScan();
        walk = index.keys(last ?? gte, lt);
      }
      const next = walk.next();
      if (next.done === true) return;
      const key = next.value;
      if (key === last) continue;
      // The index holds exactly the keys of `values`; a value may be undefined, so ask `has`.
      const value = values.get(key);
      if (value === undefined && !values.has(key)) continue;
      last = key;
      yield [key, value];
    }
  }

  #checkOpen(what: string): void {
    if (this.#closed) throw storeClosed(this.#operatorId, what);
  }
}

/**
 * The in-memory {@link StateBackend} (the default): each operator's committed state lives as long
 * as the backend, so a store closed and opened again finds it. Nothing survives the process. A
 * batch's staged writes become the stores' next version when the batch has committed.
 */
export class MemoryStateBackend implements StateBackend {
  readonly kind = 'memory';
  readonly name = 'the in-memory state backend';
  readonly #tables = new Map<string, MemoryTable>();
  readonly #open = new Map<string, MemoryStateStore>();
  #closed = false;

  /** The store of `operatorId` (the same object while it is open), at its last committed version. */
  open(operatorId: string): Promise<MemoryStateStore> {
    if (typeof operatorId !== 'string' || operatorId === '') {
      return Promise.reject(new TypeError('MemoryStateBackend.open: the operator id must be a non-empty string.'));
    }
    if (this.#closed) return Promise.reject(backendClosed(this.name, `open the store of '${operatorId}'`, operatorId));
    let store = this.#open.get(operatorId);
    if (store === undefined) {
      let table = this.#tables.get(operatorId);
      if (table === undefined) this.#tables.set(operatorId, (table = new MemoryTable()));
      const opened: MemoryStateStore = openTable(table, operatorId, () => {
        if (this.#open.get(operatorId) === opened) this.#open.delete(operatorId);
      });
      this.#open.set(operatorId, (store = opened));
    }
    return Promise.resolve(store);
  }

  /** Nothing to write: the state lives in memory. */
  prepare(commit: PendingCommit): void {
    if (this.#closed) throw backendClosed(this.name, `commit the state of batch ${commit.batchId}`);
  }

  /** The staged writes of every store become its next version. */
  committed(_batchId: number): void {
    for (const store of this.#open.values()) if (store.hasStagedWrites) store.commitStaged();
  }

  /** Drops the staged writes of every store. */
  aborted(_batchId: number): void {
    for (const store of this.#open.values()) store.abort();
  }

  /** Closes every store and forgets all state. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#open.values()].map((store) => store.close()));
    this.#tables.clear();
  }
}
