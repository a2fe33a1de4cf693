import { DuckDBTypeId, type DuckDBResultReader } from '@duckdb/node-api';

/**
 * How integer results too wide for a double come back: `'number'` (the default) gives a `number`
 * when the value is a safe integer and a `bigint` only beyond (so a `count(*)` or a `sum` of
 * `BIGINT`s is a number); `'bigint'` gives every `BIGINT`, `HUGEINT` and unsigned 64-bit value as
 * a `bigint`.
 */
export type BigIntMode = 'number' | 'bigint';

const WIDE_INTEGERS: ReadonlySet<DuckDBTypeId> = new Set([DuckDBTypeId.BIGINT, DuckDBTypeId.HUGEINT, DuckDBTypeId.UBIGINT, DuckDBTypeId.UHUGEINT]);

/** A result row: one property per column, in the query's column order. */
export type SqlRow = Record<string, unknown>;

/**
 * A query's result as row objects: DuckDB's JavaScript values (`VARCHAR` strings, `DOUBLE` and
 * `DECIMAL` numbers, `TIMESTAMP` dates, lists arrays, structs objects, `NULL` null), with wide
 * integers as `mode` says.
 */
export function resultRows(reader: DuckDBResultReader, mode: BigIntMode): SqlRow[] {
  const rows = reader.getRowObjectsJS() as SqlRow[];
  if (mode === 'bigint') return rows;
  const names = reader.columnNames();
  const wide = reader.columnTypes().flatMap((type, i) => (WIDE_INTEGERS.has(type.typeId) ? [names[i] as string] : []));
  if (wide.length === 0) return rows;
  for (const row of rows) {
    for (const name of wide) {
      const value = row[name];
      if (typeof value === 'bigint' && value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)) row[name] = Number(value);
    }
  }
  return rows;
}
