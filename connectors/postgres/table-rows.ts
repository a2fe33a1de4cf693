import { createHash } from 'node:crypto';
import { decodeValue, encodeValue } from 'sluice/extend';

/*
 * How a table source keeps its versions in its write-ahead log and reads them back: a new
 * version's rows in chunks of CHUNK_ROWS, each chunk one log entry (the state value codec's bytes
 * of the array of rows, in base64), and after every load a marker entry (JSON) saying which
 * version is in force, where its chunks are, and the refresh schedule (the first batch time and
 * the refresh epoch loaded for). A load is appended in one atomic write, so the log always ends
 * with a marker: a restarted source reads the last entry to go on where the last run stood.
 */

/** Rows per log entry: small enough for LevelDB values, large enough that entries are few. */
export const CHUNK_ROWS = 1_000;

/** What a marker entry says. */
export interface VersionMarker {
  readonly version: number;
  readonly rows: number;
  /** The SHA-256 of the version's chunks, hex. */
  readonly hash: string;
  /** The log entries `[from, to)` of the version's chunks. */
  readonly log: readonly [number, number];
  /** The time of the first batch planned (refresh epochs count from it), or `null` before one was. */
  readonly origin: number | null;
  /** The refresh epoch the load was for (0: the load at the first start). */
  readonly epoch: number;
  /** What identifies the query and its parameters ({@link queryId}). */
  readonly query: string;
}

/** A short hash of a table's query and parameters: a restart with another query loads the table again. */
export function queryId(query: string, params: readonly unknown[]): string {
  const text = JSON.stringify([query, params], (_key, value: unknown) => (typeof value === 'bigint' ? `${value}n` : value));
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

/** A version's rows encoded: the log entries of its chunks and their hash. */
export interface EncodedRows {
  readonly chunks: readonly string[];
  readonly hash: string;
}

/**
 * The value pg gave for a column as the log keeps it: a `Buffer` (bytea) as a `Uint8Array` over
 * the same bytes (the codec keeps `Uint8Array`, not its subclasses), also inside arrays.
 */
function loggable(value: unknown): unknown {
  if (Buffer.isBuffer(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  if (Array.isArray(value) && value.some((v) => Buffer.isBuffer(v) || Array.isArray(v))) return value.map(loggable);
  return value;
}

/**
 * Rows from pg as the table holds them: bytea `Buffer`s turned into `Uint8Array`s, in place
 * (pg's rows are fresh objects of ours).
 */
export function normalizeRows(rows: Record<string, unknown>[]): Record<string, unknown>[] {
  for (const row of rows) {
    for (const column in row) {
      const value = row[column];
      if (typeof value === 'object' && value !== null) row[column] = loggable(value);
    }
  }
  return rows;
}

/**
 * The log entries of `rows` and their hash (two loads with equal rows in the same order have the
 * same hash).
 *
 * @throws TypeError naming the row when a value cannot be encoded (the state value codec's types:
 * numbers, strings, bigints, booleans, null, Date, Uint8Array, plain objects and arrays of them).
 */
export function encodeRows(rows: readonly unknown[]): EncodedRows {
  const chunks: string[] = [];
  const hash = createHash('sha256');
  for (let start = 0; start < rows.length; start += CHUNK_ROWS) {
    const chunk = rows.slice(start, start + CHUNK_ROWS);
    let bytes: Uint8Array;
    try {
      bytes = encodeValue(chunk);
    } catch (error) {
      throw new TypeError(`a row among rows ${start} to ${start + chunk.length - 1} holds a value the checkpoint cannot keep: ${(error as Error).message}. Cast the column in the query (to text, say).`, { cause: error });
    }
    const entry = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
    hash.update(entry);
    chunks.push(entry);
  }
  return { chunks, hash: hash.update(String(rows.length)).digest('hex') };
}

/** The marker entry of a load. */
export function encodeMarker(marker: VersionMarker): string {
  return JSON.stringify({ table: marker.version, rows: marker.rows, hash: marker.hash, log: marker.log, origin: marker.origin, epoch: marker.epoch, query: marker.query });
}

/** A marker entry, decoded; throws when `entry` is not one. */
export function decodeMarker(entry: string): VersionMarker {
  const m = JSON.parse(entry) as Partial<Record<string, unknown>>;
  const int = (x: unknown): x is number => Number.isSafeInteger(x);
  const log = m.log;
  if (!int(m.table) || !int(m.rows) || typeof m.hash !== 'string' || !Array.isArray(log) || log.length !== 2 || !log.every(int) || !(m.origin === null || typeof m.origin === 'number') || !int(m.epoch) || typeof m.query !== 'string') {
    throw new TypeError(`not a table version's marker: ${entry.slice(0, 200)}`);
  }
  return { version: m.table, rows: m.rows, hash: m.hash, log: [log[0] as number, log[1] as number], origin: m.origin, epoch: m.epoch, query: m.query };
}

/**
 * The rows of a logged version from its chunks.
 *
 * @throws TypeError when the chunks are not those of `expected` (other rows, another hash, or
 * entries that do not decode): the log is damaged.
 */
export function decodeVersion(chunks: readonly string[], expected: { readonly version: number; readonly rows: number; readonly hash: string }): unknown[] {
  const hash = createHash('sha256');
  for (const chunk of chunks) hash.update(chunk);
  const rows: unknown[] = [];
  for (const chunk of chunks) {
    const decoded = decodeValue(Buffer.from(chunk, 'base64'));
    if (!Array.isArray(decoded)) throw new TypeError('a chunk of rows is not an array');
    for (const row of decoded) rows.push(row);
  }
  const actual = hash.update(String(rows.length)).digest('hex');
  if (actual !== expected.hash || rows.length !== expected.rows) {
    throw new TypeError(`its entries hold ${rows.length} rows with hash ${actual.slice(0, 12)}, where the plan names ${expected.rows} rows with hash ${expected.hash.slice(0, 12)}`);
  }
  return rows;
}
