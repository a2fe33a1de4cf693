import { keyBounds } from './key-range.js';
import { SortedKeyIndex } from './sorted-key-index.js';
import { DELETED, mergeStaged, StagedWrites, type StoreEntry } from './staged-writes.js';
import type { KeyRange, StateBackend, StateStore, StoreKey, StoreStats } from './state-store.js';

/** The committed state of one operator in memory: it outlives the store objects opened on it. */
class MemoryTable {
  readonly values = new Map<StoreKey, unknown>();
  readonly index = new SortedKeyIndex();
  version = 0;
}

/** Opens a store on an operator's table (the backend's way in; set by the store class). */
let openTable: (table: MemoryTable, onClose: () => void) => MemoryStateStore;

/**
 * A {@link StateStore} that keeps everything in memory: the committed values in a map, their keys
 * in a sorted index for scans, the staged writes in another map. Values are kept as given (never
 * copied or serialized). `load` has nothing to do, so `get` and `has` answer for any key.
 *
 * @example
 * const store = new MemoryStateStore();
 * store.put(key, { count: 1 });
 * await store.commit(); // 1
 */
export class MemoryStateStore implements StateStore {
  #table = new MemoryTable();
  #onClose: (() => void) | undefined;
  readonly #staged = new StagedWrites();
  #closed = false;

  static {
    openTable = (table, onClose) => {
      const store = new MemoryStateStore();
      store.#table = table;
      store.#onClose = onClose;
      return store;
    };
  }

  get version(): number {
    return this.#table.version;
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
    this.#checkOpen();
    this.#staged.put(key, value);
  }

  delete(key: StoreKey): void {
    this.#checkOpen();
    this.#staged.delete(key);
  }

  scan(range?: KeyRange): AsyncIterable<StoreEntry> {
    this.#checkOpen();
    const bounds = keyBounds(range);
    return mergeStaged(this.#committed(bounds.gte, bounds.lt), this.#staged.within(bounds), bounds.limit);
  }

  getCommitted(key: StoreKey): Promise<unknown> {
    return Promise.resolve(this.#table.values.get(key));
  }

  scanCommitted(range?: KeyRange): AsyncIterable<StoreEntry> {
    this.#checkOpen();
    const bounds = keyBounds(range);
    return mergeStaged(this.#committed(bounds.gte, bounds.lt), [], bounds.limit);
  }

  commit(): Promise<number> {
    this.#checkOpen();
    const { values, index } = this.#table;
    for (const [key, staged] of this.#staged.entries()) {
      if (staged === DELETED) {
        if (values.delete(key)) index.delete(key);
      } else {
        if (!values.has(key)) index.add(key);
        values.set(key, staged);
      }
    }
    this.#staged.clear();
    return Promise.resolve(++this.#table.version);
  }

  abort(): void {
    this.#staged.clear();
  }

  stats(): StoreStats {
    return { rows: this.#table.values.size, bytes: undefined };
  }

  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#staged.clear();
      this.#onClose?.();
    }
    return Promise.resolve();
  }

  *#committed(gte: StoreKey | undefined, lt: StoreKey | undefined): Generator<StoreEntry, void, undefined> {
    const values = this.#table.values;
    for (const key of this.#table.index.keys(gte, lt)) yield [key, values.get(key)];
  }

  #checkOpen(): void {
    if (this.#closed) throw new Error('This state store is closed.');
  }
}

/**
 * The in-memory {@link StateBackend} (the default): each operator's committed state lives as long
 * as the backend, so a store closed and opened again finds it. Nothing survives the process.
 */
export class MemoryStateBackend implements StateBackend {
  readonly kind = 'memory';
  readonly #tables = new Map<string, MemoryTable>();
  readonly #open = new Map<string, MemoryStateStore>();
  #closed = false;

  /** The store of `operatorId` (the same object while it is open), at its last committed version. */
  open(operatorId: string): Promise<MemoryStateStore> {
    if (typeof operatorId !== 'string' || operatorId === '') {
      return Promise.reject(new TypeError('MemoryStateBackend.open: the operator id must be a non-empty string.'));
    }
    if (this.#closed) return Promise.reject(new Error('MemoryStateBackend.open: the backend is closed.'));
    let store = this.#open.get(operatorId);
    if (store === undefined) {
      let table = this.#tables.get(operatorId);
      if (table === undefined) this.#tables.set(operatorId, (table = new MemoryTable()));
      const opened: MemoryStateStore = openTable(table, () => {
        if (this.#open.get(operatorId) === opened) this.#open.delete(operatorId);
      });
      this.#open.set(operatorId, (store = opened));
    }
    return Promise.resolve(store);
  }

  async commit(_batchId: number): Promise<void> {
    if (this.#closed) throw new Error('MemoryStateBackend.commit: the backend is closed.');
    for (const store of this.#open.values()) if (store.hasStagedWrites) await store.commit();
  }

  abort(_batchId: number): void {
    for (const store of this.#open.values()) store.abort();
  }

  /** Closes every store and forgets all state. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#open.values()].map((store) => store.close()));
    this.#tables.clear();
  }
}
