import { SluiceError } from 'sluice';

/**
 * The column types a stream's records can have in SQL: what a field's JavaScript values become.
 * `VARCHAR` takes strings, `DOUBLE` numbers, `BIGINT` and `INTEGER` whole numbers (or bigints),
 * `BOOLEAN` booleans, `TIMESTAMP` dates or epoch milliseconds.
 */
export type SqlType = 'VARCHAR' | 'DOUBLE' | 'BIGINT' | 'INTEGER' | 'BOOLEAN' | 'TIMESTAMP';

/** The columns of a table: each field of the records and its SQL type, in column order. */
export type SqlSchema = Readonly<Record<string, SqlType>>;

const TYPES: ReadonlySet<string> = new Set<SqlType>(['VARCHAR', 'DOUBLE', 'BIGINT', 'INTEGER', 'BOOLEAN', 'TIMESTAMP']);

/** A table's column, resolved: its name, type, and where a record keeps its value. */
export interface Column {
  readonly name: string;
  readonly type: SqlType;
}

/**
 * How a record is read as a row. An object's fields are its columns. A `[key, value]` pair's
 * columns are `key` and, for an object value, that object's fields, else `value`.
 */
export function fieldOf(record: unknown, name: string): unknown {
  if (Array.isArray(record)) {
    if (name === 'key') return record[0];
    const value: unknown = record[1];
    if (isPlainObject(value)) return value[name];
    return name === 'value' ? value : undefined;
  }
  return (record as Record<string, unknown> | null | undefined)?.[name];
}

/** The columns of a declared schema. @throws TypeError for a type that is not an {@link SqlType}. */
export function declaredColumns(what: string, schema: SqlSchema): readonly Column[] {
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) throw new TypeError(`${what}: a schema is an object of field names to SQL types, such as { user: 'VARCHAR', amount: 'DOUBLE' }.`);
  const columns = Object.entries(schema).map(([name, type]) => {
    if (!TYPES.has(type)) throw new TypeError(`${what}: the type of field '${name}' is ${JSON.stringify(type)}; use one of ${[...TYPES].join(', ')}.`);
    return { name, type };
  });
  if (columns.length === 0) throw new TypeError(`${what}: the schema declares no field; name at least one.`);
  return columns;
}

/**
 * The columns inferred from a batch's records (the first batch with any): every field in the
 * order first seen, typed by its first value that is not `null` or `undefined` (a number is
 * `DOUBLE`, so that a later fraction fits; declare `BIGINT` for integer arithmetic).
 *
 * @throws SluiceError `SQL_FAILED` for a field whose values are all missing, or of a type SQL
 * cannot hold, naming the field.
 */
export function inferColumns(table: string, records: readonly unknown[], context: { readonly operator: string; readonly batchId: number }): readonly Column[] {
  const types = new Map<string, SqlType | undefined>();
  for (const record of records) {
    for (const [name, value] of fieldsOf(record)) {
      if (types.get(name) !== undefined) continue;
      types.set(name, value === null || value === undefined ? undefined : typeOfValue(value, table, name, context));
    }
  }
  const columns: Column[] = [];
  for (const [name, type] of types) {
    if (type === undefined) {
      throw new SluiceError('SQL_FAILED', `The field '${name}' of table '${table}' is null or missing in every record of the first batch, so its type cannot be inferred; declare it in the schema option ({ ${name}: 'VARCHAR' }, ...)`, { ...context });
    }
    columns.push({ name, type });
  }
  return columns;
}

function fieldsOf(record: unknown): [string, unknown][] {
  if (Array.isArray(record)) {
    const value: unknown = record[1];
    return [['key', record[0]], ...(isPlainObject(value) ? Object.entries(value) : [['value', value] as [string, unknown]])];
  }
  return isPlainObject(record) ? Object.entries(record) : [];
}

function typeOfValue(value: unknown, table: string, name: string, context: { readonly operator: string; readonly batchId: number }): SqlType {
  switch (typeof value) {
    case 'string':
      return 'VARCHAR';
    case 'number':
      return 'DOUBLE';
    case 'bigint':
      return 'BIGINT';
    case 'boolean':
      return 'BOOLEAN';
    default:
      if (value instanceof Date) return 'TIMESTAMP';
      throw new SluiceError('SQL_FAILED', `The field '${name}' of table '${table}' holds ${describeValue(value)}, which no SQL column type of sluice/sql holds; map it to a string, number, bigint, boolean or Date first`, { ...context });
  }
}

/** A value named for an error message. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (value instanceof Date) return 'a Date';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value)}`;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return `the ${typeof value} ${String(value)}`;
  return `a ${typeof value}`;
}

/** Whether `value` is an object literal (or has a null prototype): what reads as fields. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** A SQL identifier, quoted. */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
