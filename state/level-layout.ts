import type { Level } from 'level';
import { messageOf } from '../core/internal.js';
import { SluiceError } from 'sluice';
import { stateDamaged } from './state-errors.js';
import type { StoreKey } from './state-store.js';

/*
 * Where the LevelDB backend keeps state: the rows of operator `id` in sublevel `state` → `id`
 * (keys are the store keys' bytes, values the value codec's bytes), and its meta entry (version,
 * row count, byte count) as JSON under key `id` of sublevel `state-meta`. Sublevel names allow
 * only the bytes `"`..`~`, so an id's other bytes, and `%`, are written `%XX`.
 */

/** The database a backend writes to, whatever its default encodings (stores use their own). */
export type StateDatabase = Level<unknown, unknown>;

/** A put or delete of a prepared state commit, for `batch` on the backend's database. */
export interface StateBatchOperation {
  readonly type: 'put' | 'del';
  /** The backend's database, or a sublevel of it, that the operation writes to. */
  readonly sublevel: object;
  readonly key: Uint8Array | string;
  readonly value?: Uint8Array | StoreMeta;
  /** The key's encoding, when it is not the sublevel's own (rows are written as raw bytes). */
  readonly keyEncoding?: 'view';
  /** The value's encoding, when it is not the sublevel's own. */
  readonly valueEncoding?: 'view';
}

/** What a store's meta entry records about its committed version. */
export interface StoreMeta {
  readonly version: number;
  readonly rows: number;
  /** Sum of the byte lengths of the committed keys and encoded values. */
  readonly bytes: number;
  /** Committed rows per namespace (first character of the key); absent in an entry written before Sluice counted them. */
  readonly namespaces?: Readonly<Record<string, number>>;
}

/** The sublevel of one operator's rows. */
export type RowsDb = ReturnType<typeof rowsOf>;
/** The sublevel of the meta entries. */
export type MetaDb = ReturnType<typeof metaOf>;

/**
 * A stored value that cannot be decoded: the state is damaged, was written by an incompatible
 * version, or holds a value type not registered in this process. A `SluiceError` with code
 * `STATE_CORRUPT` (`CHECKPOINT_CORRUPT` for a store in a checkpoint) that names the operator and
 * the key; `cause` says what is wrong with the bytes.
 */
export class StateValueDecodeError extends SluiceError {
  /** The operator whose store holds the value. */
  readonly operatorId: string;
  /** The key of the value. */
  readonly key: StoreKey;

  /** @param checkpoint - the directory of the checkpoint the store lives in, if it does. */
  constructor(operatorId: string, key: StoreKey, cause: unknown, checkpoint?: string) {
    const damage = stateDamaged(operatorId, `State store '${operatorId}': the value of key 0x${hex(key)} cannot be decoded: ${messageOf(cause).replace(/\.$/, '')}`, { cause, checkpoint });
    super(damage.code, damage.message, { operator: operatorId, cause });
    this.name = 'StateValueDecodeError';
    this.operatorId = operatorId;
    this.key = key;
  }
}

/** The meta entry of a store that was never committed. */
export const EMPTY_META: StoreMeta = { version: 0, rows: 0, bytes: 0, namespaces: {} };

/** The bytes of a store key (one char, one byte). */
export const toBytes = (key: StoreKey): Buffer => Buffer.from(key, 'latin1');
/** A store key in hex, for messages. */
export const hex = (key: StoreKey): string => toBytes(key).toString('hex');

/** The sublevel of the rows of `operatorId`. */
export function rowsOf(db: StateDatabase, operatorId: string) {
  return db.sublevel<Buffer, Uint8Array>(['state', sublevelName(operatorId)], { keyEncoding: 'buffer', valueEncoding: 'view' });
}

/**
 * The bytes that the sublevel `rows` (of {@link rowsOf}) puts before each key, relative to `db`:
 * a row written to `db` itself as these bytes followed by the key is the sublevel's row, without
 * the sublevel prefixing each key of a batch or a bulk read.
 */
export function rowsPrefix(db: StateDatabase, rows: RowsDb): Uint8Array {
  const above = (db as { readonly prefix?: unknown }).prefix;
  return Buffer.from(rows.prefix.slice(typeof above === 'string' ? above.length : 0), 'utf8');
}

/**
 * The bytes of `prefix` followed by each key's (one char, one byte), as views of one buffer:
 * one allocation for a batch's keys instead of one, or two with a sublevel's prefix, each.
 */
export function prefixedKeys(prefix: Uint8Array, keys: readonly StoreKey[]): Uint8Array[] {
  const p = prefix.length;
  let total = 0;
  for (const key of keys) total += p + key.length;
  const buffer = new ArrayBuffer(total);
  const bytes = new Uint8Array(buffer);
  const out = new Array<Uint8Array>(keys.length);
  let offset = 0;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as StoreKey;
    const start = offset;
    for (let j = 0; j < p; j++) bytes[offset++] = prefix[j] as number;
    for (let j = 0; j < key.length; j++) bytes[offset++] = key.charCodeAt(j);
    out[i] = new Uint8Array(buffer, start, offset - start);
  }
  return out;
}

/** The sublevel of the meta entries, keyed by operator id. */
export function metaOf(db: StateDatabase) {
  return db.sublevel<string, StoreMeta>('state-meta', { keyEncoding: 'utf8', valueEncoding: 'json' });
}

/** A sublevel name for any operator id: bytes LevelDB sublevel names allow pass, others become `%XX`. */
function sublevelName(operatorId: string): string {
  let name = '';
  for (const byte of Buffer.from(operatorId, 'utf8')) {
    name += byte > 0x21 && byte < 0x7f && byte !== 0x25 ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return name;
}

/** Writes operations that name their sublevels in one atomic batch. */
export function writeBatch(db: StateDatabase, operations: readonly StateBatchOperation[]): Promise<void> {
  // Each operation is typed by the encodings of its own sublevel, which the root's type cannot express.
  return db.batch(operations as never);
}

/** Checks a meta entry read back; a `STATE_CORRUPT` (in a checkpoint `CHECKPOINT_CORRUPT`) SluiceError naming the operator when it is not one. */
export function checkMeta(operatorId: string, meta: unknown, checkpoint?: string): StoreMeta {
  const m = meta as Partial<Record<keyof StoreMeta, unknown>> | null;
  const count = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) >= 0;
  if (typeof m !== 'object' || m === null || !count(m.version) || !count(m.rows) || !count(m.bytes)) {
    throw stateDamaged(operatorId, `State store '${operatorId}': its meta entry is corrupt (${JSON.stringify(meta)})`, { checkpoint });
  }
  const namespaces = m.namespaces as Record<string, unknown> | undefined;
  if (namespaces !== undefined && (typeof namespaces !== 'object' || namespaces === null || !Object.values(namespaces).every(count))) {
    throw stateDamaged(operatorId, `State store '${operatorId}': its meta entry is corrupt (${JSON.stringify(meta)})`, { checkpoint });
  }
  // A store of no rows has none in any namespace: no count needed.
  const counted = namespaces ?? (m.rows === 0 ? {} : undefined);
  return { version: m.version, rows: m.rows, bytes: m.bytes, ...(counted === undefined ? {} : { namespaces: counted as Record<string, number> }) };
}

/**
 * The operations that delete every row and the meta entry of the store of `operatorId` (a
 * stateful operator an upgraded program no longer has), for the caller's atomic batch.
 */
export async function dropStoreOperations<K, V>(database: Level<K, V>, operatorId: string): Promise<StateBatchOperation[]> {
  const db = database as unknown as StateDatabase;
  const rows = rowsOf(db, operatorId);
  const operations: StateBatchOperation[] = [];
  for await (const key of rows.keys()) operations.push({ type: 'del', sublevel: rows, key });
  operations.push({ type: 'del', sublevel: metaOf(db), key: operatorId });
  return operations;
}
