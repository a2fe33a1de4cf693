import { SluiceError } from 'sluice';
import { withClient } from './batch-write.js';
import type { PostgresPool } from './pg-client.js';
import { normalizeRows } from './table-rows.js';
import { isTransient, retryDelay } from './transient.js';

/** What a table load needs: where and what to query, and its bounds. */
export interface TableQuery {
  /** The source's name, for messages. */
  readonly source: string;
  /** The server, for messages (`host:port/db`, or `the pool's server`). */
  readonly where: string;
  /** The user's query, without a trailing semicolon. */
  readonly query: string;
  readonly params: readonly unknown[];
  /** The most rows a load may return. */
  readonly maxRows: number;
  /** Attempts after a transient failure. */
  readonly retries: number;
}

/** The rows of one load and the attempts it retried. */
export interface LoadedRows {
  readonly rows: Record<string, unknown>[];
  readonly retries: number;
}

/** The user's query with a trailing semicolon (and blanks) removed, for wrapping in a LIMIT. */
export function bareQuery(query: string): string {
  return query.trim().replace(/;\s*$/, '');
}

/**
 * Runs the table's query: `SELECT * FROM (query) LIMIT maxRows + 1`, so that a query returning
 * too many rows fails without holding them all. A lost connection or a server restarting is
 * tried again (`retries`, waiting 100 ms, 200 ms, 400 ms ...).
 *
 * @throws SluiceError `SOURCE_FAILED` naming the server and the query when PostgreSQL refuses the
 * query, stays unreachable after the retries, or the query returns more than `maxRows` rows.
 */
export async function loadRows(pool: PostgresPool, table: TableQuery): Promise<LoadedRows> {
  const sql = `SELECT * FROM (${table.query}) AS sluice_table LIMIT ${table.maxRows + 1}`;
  for (let retries = 0; ; retries++) {
    let rows: Record<string, unknown>[];
    try {
      rows = await withClient(pool, async (client) => (await client.query(sql, table.params)).rows as Record<string, unknown>[]);
    } catch (error) {
      if (isTransient(error) && retries < table.retries) {
        await new Promise((resolve) => setTimeout(resolve, retryDelay(retries)));
        continue;
      }
      const message = error instanceof Error ? error.message : String(error);
      const tried = isTransient(error) ? ` after ${retries + 1} attempts; check that PostgreSQL is up and reachable` : '';
      throw new SluiceError('SOURCE_FAILED', `Source ${table.source} could not load its table from ${table.where}${tried}: ${message}. The query: ${excerpt(table.query)}`, { source: table.source, cause: error });
    }
    if (rows.length > table.maxRows) {
      throw new SluiceError(
        'SOURCE_FAILED',
        `Source ${table.source}: the query returns more than maxRows = ${table.maxRows} rows (${table.where}): ${excerpt(table.query)}. A table is held in memory whole; narrow the query (WHERE, fewer columns), or raise maxRows if the memory allows.`,
        { source: table.source },
      );
    }
    return { rows: normalizeRows(rows), retries };
  }
}

function excerpt(query: string): string {
  return query.length > 200 ? `${query.slice(0, 200)}...` : query;
}
