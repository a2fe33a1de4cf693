import { DuckDBInstance, StatementType } from '@duckdb/node-api';
import { SluiceError } from 'sluice';
import { BatchTable } from './batch-table.js';
import { resultRows, type BigIntMode, type SqlRow } from './result-rows.js';
import type { StateTable } from './state-tables.js';

/** What a query over a job's state gives. */
export interface StateQueryResult {
  /** The batch the state is as of (the last persisted one for a checkpoint; the last committed one without), if known. */
  readonly batchId: number | undefined;
  /** The result's columns, in order, with DuckDB's names of their types. */
  readonly columns: readonly { readonly name: string; readonly type: string }[];
  /** The result rows. */
  readonly rows: readonly SqlRow[];
}

/** Options of a query over a job's state. */
export interface StateQueryOptions {
  /** How wide integer results come back (see {@link BigIntMode}; default `'number'`). */
  readonly bigints?: BigIntMode;
}

/**
 * Runs `query` over `tables` in a database of its own, made for this query and closed after it,
 * which cannot reach files or the network (`enable_external_access` off) and whose configuration
 * is locked. DuckDB's parser decides what the query is: exactly one statement, whose prepared
 * type is `SELECT` (a `WITH ... SELECT` is one too); anything else is refused before it runs.
 *
 * @throws TypeError for a query that is not one SELECT; SluiceError `SQL_FAILED` for one that does not bind or fails (one
 * that does not bind lists the tables, quoted as SQL takes them, and `hint`).
 */
export async function runReadOnlyQuery(tables: readonly StateTable[], query: string, batchId: number | undefined, options: StateQueryOptions = {}, hint?: string): Promise<StateQueryResult> {
  if (typeof query !== 'string' || query.trim() === '') throw new TypeError('queryState: the query must be a non-empty string of SQL, such as "SELECT * FROM counts".');
  const db = await DuckDBInstance.create(':memory:', { threads: '1', enable_external_access: 'false' });
  try {
    const connection = await db.connect();
    const context = { operator: 'queryState', batchId: batchId ?? -1, batchTime: 0 };
    for (const table of tables) {
      const created = await BatchTable.create(connection, table.name, table.columns);
      await created.load(connection, table.rows, context);
    }
    await connection.run('SET lock_configuration = true');
    const statements = await connection.extractStatements(query).catch((error: unknown) => {
      throw new TypeError(`queryState: the query does not parse: ${(error as Error).message}`);
    });
    if (statements.count !== 1) throw new TypeError(`queryState: give exactly one SELECT statement (the query holds ${statements.count}).`);
    const prepared = await statements.prepare(0).catch((error: unknown) => {
      const names = tables.map((t) => `"${t.name.replaceAll('"', '""')}"`);
      throw new SluiceError('SQL_FAILED', `The query does not bind against the job's tables (${names.join(', ') || 'none'}${hint === undefined ? '' : `; ${hint}`}): ${(error as Error).message}`, { cause: error });
    });
    try {
      if (prepared.statementType !== StatementType.SELECT) throw new TypeError('queryState: the query is read-only: give one SELECT (or WITH ... SELECT) statement.');
      const reader = await prepared.runAndReadAll().catch((error: unknown) => {
        throw new SluiceError('SQL_FAILED', `The query over the state failed: ${(error as Error).message}`, { cause: error });
      });
      const types = reader.columnTypes();
      return { batchId, columns: reader.columnNames().map((name, i) => ({ name, type: String(types[i]) })), rows: resultRows(reader, options.bigints ?? 'number') };
    } finally {
      prepared.destroySync();
      connection.closeSync();
    }
  } finally {
    db.closeSync();
  }
}
