import { resolve } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { SluiceError } from 'sluice';
import { quoteIdentifier } from './table-schema.js';

/**
 * A table loaded from a file once, when the context starts, for stream-static joins: exactly one
 * of `csv` (with a header line; DuckDB infers the delimiter and types), `parquet`, or `ndjson`
 * (one JSON object per line). A relative path is resolved against the working directory.
 */
export type StaticTable = { readonly csv: string } | { readonly parquet: string } | { readonly ndjson: string };

/** The file format and path of a static table. @throws TypeError for anything else. */
export function checkStaticTable(what: string, name: string, table: StaticTable): { readonly format: 'csv' | 'parquet' | 'ndjson'; readonly path: string } {
  const entries = typeof table === 'object' && table !== null ? Object.entries(table) : [];
  const [format, path] = entries[0] ?? [];
  if (entries.length !== 1 || (format !== 'csv' && format !== 'parquet' && format !== 'ndjson') || typeof path !== 'string' || path === '') {
    throw new TypeError(`${what}: the static table '${name}' must be one of { csv: path }, { parquet: path } or { ndjson: path }, got ${JSON.stringify(table)}.`);
  }
  return { format, path: resolve(path) };
}

/**
 * Loads a static table into a temporary table of `connection`.
 *
 * @throws SluiceError `SQL_FAILED` when the file cannot be read or parsed, naming the table and the file.
 */
export async function loadStaticTable(connection: DuckDBConnection, name: string, table: StaticTable, operator: string): Promise<void> {
  const { format, path } = checkStaticTable(operator, name, table);
  const file = `'${path.replaceAll("'", "''")}'`;
  const reader = format === 'csv' ? `read_csv(${file}, header = true)` : format === 'parquet' ? `read_parquet(${file})` : `read_json(${file}, format = 'newline_delimited')`;
  try {
    await connection.run(`CREATE OR REPLACE TEMP TABLE ${quoteIdentifier(name)} AS SELECT * FROM ${reader}`);
  } catch (error) {
    throw new SluiceError('SQL_FAILED', `The static table '${name}' could not be loaded from ${path} (${format}): ${(error as Error).message}`, { operator, cause: error });
  }
}
