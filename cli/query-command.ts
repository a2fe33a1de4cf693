import { stateToJson } from 'sluice/checkpoint';
import type { queryCheckpoint } from 'sluice/sql';
import { isLocked } from '../checkpoint/internal.js';
import { messageOf } from '../core/internal.js';
import { EXIT, UsageError, type CliIo } from './cli-io.js';
import { fetchFromMonitor } from './monitor-client.js';

/** Options of `sluice query`, as given on the command line. */
export interface QueryCommandOptions {
  readonly json?: boolean;
  readonly token?: string;
}

/** What a query over a job's state gives (`StateQueryResult` of `sluice/sql`, or its JSON from a monitor). */
interface QueryResult {
  readonly batchId?: number | null;
  readonly columns: readonly { readonly name: string; readonly type: string }[];
  readonly rows: readonly Record<string, unknown>[];
}

/**
 * `sluice query <checkpoint> <sql> [--json]`: a read-only SQL query over a job's committed state,
 * each stateful operator a table named by its id: over the checkpoint when its job is stopped
 * (`queryCheckpoint` of `sluice/sql`, which needs the optional peer `@duckdb/node-api`), through
 * the job's monitor (`GET /api/query`) when it runs.
 *
 * @returns the exit status.
 * @throws UsageError for a query that is not one SELECT.
 */
export async function queryCommand(directory: string, query: string, options: QueryCommandOptions, io: CliIo): Promise<number> {
  let result: unknown;
  try {
    const sql = await loadSql();
    result = await sql.queryCheckpoint(directory, query);
  } catch (error) {
    if (error instanceof TypeError && !(error instanceof MissingPeer)) throw new UsageError(error.message.replace(/^queryState: /, ''));
    if (!isLocked(error)) throw error;
    result = await fetchFromMonitor(directory, `/api/query?sql=${encodeURIComponent(query)}`, { token: options.token ?? io.env?.SLUICE_MONITOR_TOKEN });
  }
  io.out(options.json === true || !isResult(result) ? stateToJson(result, 2) : formatResult(result));
  return EXIT.ok;
}

class MissingPeer extends TypeError {}

/** `sluice/sql`, loaded only by this command: the rest of the CLI runs without DuckDB. */
async function loadSql(): Promise<{ readonly queryCheckpoint: typeof queryCheckpoint }> {
  try {
    return await import('sluice/sql');
  } catch (error) {
    throw new MissingPeer(`sluice query needs the optional peer dependency @duckdb/node-api: npm install @duckdb/node-api (${messageOf(error)})`);
  }
}

/**
 * A query's result as a text table: a header of column names, a rule, a line per row (`NULL` for
 * null, dates in ISO form, other non-strings as JSON), then the row count and the batch.
 *
 * @example
 * key    | value
 * -------+------
 * user-0 | 4
 * 1 row, as of batch 2
 */
export function formatResult(result: QueryResult): string {
  const names = result.columns.map((c) => c.name);
  const cells = result.rows.map((row) => names.map((name) => cellText(row[name])));
  const widths = names.map((name, i) => Math.max(name.length, ...cells.map((line) => (line[i] as string).length)));
  const line = (parts: readonly string[]): string => parts.map((part, i) => part.padEnd(widths[i] as number)).join(' | ').trimEnd();
  const at = result.batchId === undefined || result.batchId === null ? '' : `, as of batch ${result.batchId}`;
  return [line(names), widths.map((w) => '-'.repeat(w)).join('-+-'), ...cells.map(line), `${result.rows.length} ${result.rows.length === 1 ? 'row' : 'rows'}${at}`].join('\n');
}

function cellText(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'string') return value;
  if (value instanceof Date) return value.toISOString();
  return stateToJson(value);
}

function isResult(value: unknown): value is QueryResult {
  const v = value as Partial<QueryResult> | null;
  return typeof v === 'object' && v !== null && Array.isArray(v.columns) && Array.isArray(v.rows);
}
