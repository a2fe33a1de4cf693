import { quoteIdentifier } from './identifiers.js';

/**
 * The PostgreSQL types a sink column can have, and the JavaScript values each takes:
 *
 * | type | values |
 * |---|---|
 * | `'text'` | strings |
 * | `'integer'` | integers (number or bigint) from -2^31 to 2^31 - 1 |
 * | `'bigint'` | safe integers (number) or bigints from -2^63 to 2^63 - 1 |
 * | `'double precision'` | numbers (also `NaN` and the infinities) |
 * | `'numeric'` | finite numbers, bigints, or decimal strings such as `'12.50'` |
 * | `'boolean'` | booleans |
 * | `'timestamptz'` | ms since the epoch (a Sluice `Time`) or a valid `Date` |
 * | `'jsonb'` | anything `JSON.stringify` writes (bigints as their digits) |
 *
 * `null` and `undefined` are SQL `NULL` in every type, unless the column is not nullable.
 */
export type PostgresColumnType = 'text' | 'integer' | 'bigint' | 'double precision' | 'numeric' | 'boolean' | 'timestamptz' | 'jsonb';

/** One column of a sink's table: its type and how a record gives its value. */
export interface PostgresColumn<T> {
  /** The column's PostgreSQL type; see {@link PostgresColumnType}. */
  readonly type: PostgresColumnType;
  /** The column's value for a record. */
  readonly value: (record: T) => unknown;
  /** Whether `null`/`undefined` may be written (default `true`; always `false` for upsert key columns). */
  readonly nullable?: boolean;
}

/** A checked column, ready to convert values. */
export interface Column<T> {
  readonly name: string;
  readonly quoted: string;
  readonly type: PostgresColumnType;
  readonly value: (record: T) => unknown;
  readonly nullable: boolean;
}

const TYPES: readonly PostgresColumnType[] = ['text', 'integer', 'bigint', 'double precision', 'numeric', 'boolean', 'timestamptz', 'jsonb'];
const INT32 = [-(2n ** 31n), 2n ** 31n - 1n] as const;
const INT64 = [-(2n ** 63n), 2n ** 63n - 1n] as const;
const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * Checks the `columns` option of a sink.
 *
 * @throws TypeError for no columns, a column without a known type or a value function, or a key
 * column that is not a column.
 */
export function checkColumns<T>(what: string, columns: unknown, key: readonly string[]): Column<T>[] {
  if (typeof columns !== 'object' || columns === null || Object.keys(columns).length === 0) {
    throw new TypeError(`${what}: columns must name at least one column, as { column: { type: 'text', value: (record) => record.field } }.`);
  }
  const checked = Object.entries(columns as Record<string, unknown>).map(([name, spec]): Column<T> => {
    const { type, value, nullable } = (spec ?? {}) as Partial<PostgresColumn<T>>;
    if (!TYPES.includes(type as PostgresColumnType)) throw new TypeError(`${what}: column '${name}' has type ${JSON.stringify(type)}; use one of ${TYPES.map((t) => `'${t}'`).join(', ')}.`);
    if (typeof value !== 'function') throw new TypeError(`${what}: column '${name}' needs a value function, (record) => the column's value.`);
    if (nullable !== undefined && typeof nullable !== 'boolean') throw new TypeError(`${what}: column '${name}': nullable must be true or false.`);
    return { name, quoted: quoteIdentifier(name), type: type as PostgresColumnType, value, nullable: !key.includes(name) && nullable !== false };
  });
  for (const name of key) {
    if (!checked.some((c) => c.name === name)) throw new TypeError(`${what}: key column '${name}' is not one of the columns (${checked.map((c) => c.name).join(', ')}).`);
  }
  return checked;
}

/**
 * A value as the text PostgreSQL reads for the column's type, or `null` for SQL `NULL`.
 *
 * @throws Error saying why the value does not fit (the caller names the column, record and batch).
 */
export function toSqlText(column: Column<unknown>, value: unknown): string | null {
  if (value === null || value === undefined) {
    if (column.nullable) return null;
    throw new Error(`is ${String(value)}, but the column takes no NULL (it is a key column, or nullable: false)`);
  }
  switch (column.type) {
    case 'text':
      if (typeof value === 'string') return value;
      break;
    case 'integer':
    case 'bigint': {
      const [min, max] = column.type === 'integer' ? INT32 : INT64;
      if (typeof value === 'bigint' && value >= min && value <= max) return value.toString();
      if (typeof value === 'number' && Number.isSafeInteger(value) && BigInt(value) >= min && BigInt(value) <= max) return String(value);
      if (typeof value === 'number' && Number.isInteger(value) && column.type === 'bigint') throw new Error(`is ${value}, beyond the safe integers of a JavaScript number; give a bigint`);
      throw new Error(`is ${describe(value)}, not an integer that fits ${column.type}`);
    }
    case 'double precision':
      if (typeof value === 'number') return Number.isNaN(value) ? 'NaN' : value === Infinity ? 'Infinity' : value === -Infinity ? '-Infinity' : String(value);
      break;
    case 'numeric':
      if (typeof value === 'number' && Number.isFinite(value)) return String(value);
      if (typeof value === 'bigint') return value.toString();
      if (typeof value === 'string' && DECIMAL.test(value)) return value;
      break;
    case 'boolean':
      if (typeof value === 'boolean') return value ? 't' : 'f';
      break;
    case 'timestamptz': {
      const ms = value instanceof Date ? value.getTime() : typeof value === 'number' ? value : Number.NaN;
      if (Number.isFinite(ms) && Math.abs(ms) <= 8.64e15) return new Date(ms).toISOString();
      throw new Error(`is ${describe(value)}, not a time (ms since the epoch, or a valid Date)`);
    }
    case 'jsonb': {
      const text = JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
      if (text !== undefined) return text;
      break;
    }
  }
  throw new Error(`is ${describe(value)}, not a value of type ${column.type}`);
}

function describe(value: unknown): string {
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value)}`;
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value instanceof Date) return 'an invalid Date';
  return `a${typeof value === 'object' ? 'n object' : ` ${typeof value}`}`;
}
