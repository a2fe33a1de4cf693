/*
 * The LevelDB state store of one operator, and the commit path it shares with the backend
 * (level-state-backend.ts), which commits every store in one batch.
 */
import { checkStoreKey, keyBounds, type KeyBounds } from './key-range.js';
import { hex, prefixedKeys, toBytes, writeBatch, type StateBatchOperation, type StoreMeta } from './level-layout.js';
import type { PreparedStateCommit } from './level-state-backend.js';
import { stateIoFailed, storeClosed } from './state-errors.js';
import { DELETED, mergeStaged, StagedWrites, type StoreEntry } from './staged-writes.js';
import type { KeyRange, StateStore, StoreKey, StoreStats } from './state-store.js';
import { decodeRow, encodeRow, knownRow, knowsEveryRow, probeEmpty, startVersion, UNPROBED, VIEWS, type Row, type StoreState } from './level-store-state.js';

export { StateValueDecodeError, type StateBatchOperation, type StoreMeta } from './level-layout.js';

const SCAN_BATCH = 512;
/** What a read finds for a key the pipelined commit handed off with a put / with a delete. */
const HANDED_OFF_PUT: unique symbol = Symbol('handed-off put');
const HANDED_OFF_DELETE: unique symbol = Symbol('handed-off delete');

/** Opens a store on its state, and reads it back (the backend's way in; set by the store class). */
let openStore: (s: StoreState) => LevelStateStore;
let stateOf: (store: LevelStateStore) => StoreState;
export { openStore, stateOf };

/**
 * The {@link StateStore} of one operator in a LevelDB database (see {@link LevelStateBackend}):
 * committed values are read in bulk by `load` and kept decoded in a bounded LRU cache.
 *
 * Errors: a read or write that LevelDB fails, or a call on a closed store, throws a SluiceError
 * `STATE_IO_FAILED`; a stored value or row that cannot be decoded, `STATE_CORRUPT` (a
 * {@link StateValueDecodeError} for a value); both name the operator. `get` or `has` of a key
 * not loaded in this version throws a TypeError.
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
    const s = this.#open('load keys');
    if (s.completeAt === UNPROBED) await probeEmpty(s);
    const { loaded, cache } = s;
    const handedOff = s.handedOff;
    if (knowsEveryRow(s)) {
      // A key the store holds no row for has none: no read. Pinning a key twice, or a staged
      // key (reads see its staged write first), pins the same committed row: no checks for them.
      // A handed-off key is not pinned: its committed row changes when that commit is confirmed.
      for (const key of keys) {
        if (handedOff?.has(key) === true) continue;
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
      if (loaded.has(key) || staged?.has(key) === true || handedOff?.has(key) === true) continue;
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
    const found = await readMany(s, list);
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
    const staged = s.staged;
    if (staged.has(key)) {
      const write = staged.get(key);
      return write === DELETED ? undefined : write;
    }
    // A row pinned in this version is never a handed-off key's (see #unpinned): no look there.
    const pinned = s.loaded.get(key);
    const row = pinned === undefined ? this.#unpinned(key) : pinned;
    return row === HANDED_OFF_DELETE || row === null ? undefined : row === HANDED_OFF_PUT ? (s.handedOff as StagedWrites).get(key) : row.value;
  }

  has(key: StoreKey): boolean {
    const s = this.#s;
    const staged = s.staged;
    if (staged.has(key)) return staged.get(key) !== DELETED;
    const pinned = s.loaded.get(key);
    const row = pinned === undefined ? this.#unpinned(key) : pinned;
    return row !== null && row !== HANDED_OFF_DELETE;
  }

  put(key: StoreKey, value: unknown): void {
    this.#open('stage a write').staged.put(key, value);
  }

  delete(key: StoreKey): void {
    this.#open('stage a write').staged.delete(key);
  }

  scan(range?: KeyRange): AsyncIterable<StoreEntry> {
    const s = this.#open('scan');
    const bounds = keyBounds(range);
    const staged = s.staged.within(bounds);
    const handedOff = s.handedOff?.within(bounds);
    // Each staged write hides or replaces at most one committed entry.
    if (handedOff === undefined) return mergeStaged(committedEntries(s, bounds, bounds.limit + staged.length), staged, bounds.limit);
    // A pipelined commit's writes, perhaps not yet durable, over the committed rows; the version's own over them.
    const base = mergeStaged(committedEntries(s, bounds, bounds.limit + staged.length + handedOff.length), handedOff, bounds.limit + staged.length);
    return mergeStaged(base, staged, bounds.limit);
  }

  async getCommitted(key: StoreKey): Promise<unknown> {
    const s = this.#open('read');
    checkStoreKey(key);
    let row = knownRow(s, key);
    if (row === undefined && knowsEveryRow(s)) row = null;
    if (row === undefined) {
      const generation = s.generation;
      let bytes: Uint8Array | undefined;
      try {
        bytes = await s.rows.get(toBytes(key));
      } catch (error) {
        throw stateIoFailed(s.operatorId, `read key 0x${hex(key)}`, error, s.checkpoint);
      }
      row = bytes === undefined ? null : decodeRow(s, key, bytes);
      // While a commit is unconfirmed the read may be from before or after its write: not cached.
      if (generation === s.generation && s.unconfirmed === 0) s.cache.set(key, row);
    }
    return row === null ? undefined : row.value;
  }

  scanCommitted(range?: KeyRange): AsyncIterable<StoreEntry> {
    const s = this.#open('scan');
    const bounds = keyBounds(range);
    return committedEntries(s, bounds, bounds.limit);
  }

  async commit(): Promise<number> {
    const s = this.#open('commit');
    const prepared = await prepareCommit(s);
    s.unconfirmed++;
    try {
      await writeBatch(s.db, prepared.operations);
    } catch (error) {
      throw stateIoFailed(s.operatorId, `write version ${s.meta.version + 1}`, error, s.checkpoint);
    }
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
    const { rows, bytes, namespaces } = this.#s.meta;
    return namespaces === undefined ? { rows, bytes } : { rows, bytes, namespaces };
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

  /**
   * What a read of `key` finds when the version has not pinned it: the handed-off write of a
   * pipelined commit ({@link HANDED_OFF_PUT}, {@link HANDED_OFF_DELETE}), else its committed row
   * from the cache, pinned for the rest of the version (loads of other keys may evict it from the
   * cache). A handed-off key is never pinned: its committed row changes when that commit is
   * confirmed.
   */
  #unpinned(key: StoreKey): Row | typeof HANDED_OFF_PUT | typeof HANDED_OFF_DELETE {
    const s = this.#s;
    const handedOff = s.handedOff;
    if (handedOff?.has(key) === true) return handedOff.get(key) === DELETED ? HANDED_OFF_DELETE : HANDED_OFF_PUT;
    const row = s.cache.get(key);
    if (row === undefined) {
      throw new TypeError(`State store '${s.operatorId}': key 0x${hex(key)} was not loaded in this version; call load() with it before get() or has().`);
    }
    s.loaded.set(key, row);
    return row;
  }

  /** The store's state, unless it is closed; `what` says what it was asked to do. */
  #open(what: string): StoreState {
    if (this.#s.closed) throw storeClosed(this.#s.operatorId, what);
    return this.#s;
  }
}

/** The committed rows of `keys` (sorted, distinct) in one bulk read. */
async function readMany(s: StoreState, keys: readonly StoreKey[]): Promise<(Uint8Array | undefined)[]> {
  try {
    return await s.db.getMany(prefixedKeys(s.prefix, keys), VIEWS);
  } catch (error) {
    throw stateIoFailed(s.operatorId, `read ${keys.length} key(s)`, error, s.checkpoint);
  }
}

/** Committed entries within `bounds` in key order, read from the database in batches. */
async function* committedEntries(s: StoreState, bounds: KeyBounds, limit: number): AsyncGenerator<StoreEntry, void, undefined> {
  if (limit <= 0 || (bounds.gte !== undefined && bounds.lt !== undefined && bounds.gte >= bounds.lt)) return;
  const iterator = rowsIterator(s, bounds, limit);
  try {
    for (;;) {
      let entries: [Buffer, Uint8Array][];
      try {
        entries = await iterator.nextv(SCAN_BATCH);
      } catch (error) {
        throw stateIoFailed(s.operatorId, 'scan its rows', error, s.checkpoint);
      }
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

/** An iterator over the rows within `bounds` (a closed database fails at once, not at the first read). */
function rowsIterator(s: StoreState, bounds: KeyBounds, limit: number) {
  try {
    return s.rows.iterator({
      ...(bounds.gte === undefined ? {} : { gte: toBytes(bounds.gte) }),
      ...(bounds.lt === undefined ? {} : { lt: toBytes(bounds.lt) }),
      ...(limit === Infinity ? {} : { limit }),
    });
  } catch (error) {
    throw stateIoFailed(s.operatorId, 'scan its rows', error, s.checkpoint);
  }
}

/**
 * The committed rows per namespace of a store whose meta entry was written before Sluice counted
 * them: counted once, from the keys alone, at the store's first commit after the upgrade (its
 * commits keep the count from then on). Reading every key is the migration's one-time cost.
 */
async function countNamespaces(s: StoreState): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  const iterator = s.rows.keys({ keyEncoding: 'view' });
  try {
    for (;;) {
      let keys: Uint8Array[];
      try {
        keys = await iterator.nextv(SCAN_BATCH * 8);
      } catch (error) {
        throw stateIoFailed(s.operatorId, 'count its rows', error, s.checkpoint);
      }
      if (keys.length === 0) return counts;
      for (const key of keys) {
        const namespace = key.length === 0 ? '' : String.fromCharCode(key[0] as number);
        counts[namespace] = (counts[namespace] ?? 0) + 1;
      }
    }
  } finally {
    await iterator.close();
  }
}

/**
 * Prepares the writes that make the staged writes of `s` its next version, with its meta entry.
 * The rows, rows per namespace and bytes of the meta entry stay exact: the previous size of every
 * staged key comes from what the store knows, and the keys it does not know are read in one
 * `getMany` (none when it knows every row). Rows are written to the backend's database as raw
 * bytes (the rows prefix, then the key), all keys in one buffer and all values in the codec's
 * shared one.
 *
 * The caller counts the commit as unconfirmed (`s.unconfirmed`) once it may write it; `committed()`
 * confirms it.
 */
export async function prepareCommit(s: StoreState): Promise<PreparedStateCommit> {
  if (s.completeAt === UNPROBED) await probeEmpty(s);
  const staged = s.staged;
  const pinnedAt = s.pinnedAt;
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
    const found = await readMany(s, unknown.map((j) => keys[j] as StoreKey));
    unknownSizes = new Map();
    for (const [j, index] of unknown.entries()) {
      const bytes = found[j];
      if (bytes !== undefined) unknownSizes.set(index, bytes.byteLength);
    }
  }
  const keyBytes = prefixedKeys(s.prefix, keys);
  let { rows, bytes } = s.meta;
  const namespaces = new Map(Object.entries(s.meta.namespaces ?? (await countNamespaces(s))));
  const operations = new Array<StateBatchOperation>(n + 1);
  /** The encoded size of each key's new row (-1: deleted). */
  const sizes = new Array<number>(n);
  // Rows per namespace: counted in a run of keys of one namespace (most rows are of one), into the map when it ends.
  let namespace = '';
  let delta = 0;
  for (let j = 0; j < n; j++) {
    const key = keys[j] as StoreKey;
    const write = writes[j];
    const row = known[j];
    const oldSize = row === undefined ? unknownSizes?.get(j) : row === null ? undefined : row.size;
    const ns = key.charAt(0);
    if (ns !== namespace) {
      if (delta !== 0) namespaces.set(namespace, (namespaces.get(namespace) ?? 0) + delta);
      namespace = ns;
      delta = 0;
    }
    if (oldSize !== undefined) {
      rows--;
      bytes -= key.length + oldSize;
      delta--;
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
      delta++;
    }
  }
  if (delta !== 0) namespaces.set(namespace, (namespaces.get(namespace) ?? 0) + delta);
  const counts = Object.fromEntries([...namespaces].filter(([, count]) => count > 0));
  const meta: StoreMeta = { version: s.meta.version + 1, rows, bytes, namespaces: counts };
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
      const inPlace = cache.drops === pinnedAt;
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
      // Handed off (a pipelined commit): the next version is being built on these writes; it ends on its own.
      if (s.staged !== staged) return;
      staged.clear();
      startVersion(s);
    },
    handOff: () => {
      handOff(s, staged);
    },
  };
}

/**
 * Pipelined commit: the version being committed ends before its write is durable. Its staged
 * writes become the base the next version reads ({@link StoreState.handedOff}); the next version
 * stages its own from empty and pins its own rows.
 */
export function handOff(s: StoreState, staged: StagedWrites): void {
  if (s.staged !== staged) return;
  startVersion(s);
  if (staged.size === 0) return;
  s.handedOff = staged;
  s.staged = new StagedWrites();
}
