import { SluiceError } from 'sluice';
import type { CheckpointIdentity } from 'sluice/extend';
import { toSqlText, type Column } from './columns.js';
import type { PostgresClient, PostgresPool } from './pg-client.js';
import type { SinkStatements } from './sink-statements.js';

/*
 * How a PostgreSQL sink writes one batch: the records as one array of SQL texts per column, then
 * one statement that claims the batch in the progress table (with a checkpoint) and inserts the
 * rows.
 */

/**
 * The batch as one array of SQL texts per column, in column order; for an upsert, only the last
 * record of each key.
 *
 * @throws SluiceError `SINK_FAILED` naming the column, record and batch for a value that does not fit.
 */
export function columnArrays<T>(partitions: readonly (readonly T[])[], columns: readonly Column<T>[], key: readonly string[], operator: string, batchId: number): (string | null)[][] {
  const arrays: (string | null)[][] = columns.map(() => []);
  let index = 0;
  for (const partition of partitions) {
    for (const record of partition) {
      for (let c = 0; c < columns.length; c++) {
        const column = columns[c] as Column<T>;
        let text: string | null;
        try {
          text = toSqlText(column as Column<unknown>, column.value(record));
        } catch (error) {
          const why = error instanceof Error ? error.message : String(error);
          throw new SluiceError('SINK_FAILED', `${operator}: column '${column.name}' of record ${index} of batch ${batchId} ${why}. Fix the column's value function, or filter such records out before the sink.`, { operator, batchId, cause: error });
        }
        (arrays[c] as (string | null)[]).push(text);
      }
      index++;
    }
  }
  return key.length === 0 ? arrays : lastPerKey(arrays, columns, key);
}

/** Keeps the last row of each key (PostgreSQL refuses to update one row twice in one statement). */
function lastPerKey<T>(arrays: (string | null)[][], columns: readonly Column<T>[], key: readonly string[]): (string | null)[][] {
  const keyIndexes = key.map((k) => columns.findIndex((c) => c.name === k));
  const rows = arrays[0]?.length ?? 0;
  const last = new Map<string | null | undefined, number>();
  const single = keyIndexes.length === 1 ? (arrays[keyIndexes[0] as number] as (string | null)[]) : undefined;
  // One key column: its texts are the map's keys (nothing built per row); several: their texts as one JSON array.
  if (single !== undefined) for (let r = 0; r < rows; r++) last.set(single[r], r);
  else for (let r = 0; r < rows; r++) last.set(JSON.stringify(keyIndexes.map((c) => (arrays[c] as (string | null)[])[r])), r);
  if (last.size === rows) return arrays;
  const kept = [...last.values()].sort((a, b) => a - b);
  return arrays.map((values) => kept.map((r) => values[r] as string | null));
}

/**
 * Writes one batch in one statement (so one transaction and one round trip), claiming it in the
 * progress table in the same statement with a checkpoint; `false` when the batch was written
 * already. A failed statement leaves nothing behind: neither rows nor claim.
 */
export async function writeBatch(pool: PostgresPool, statements: SinkStatements, values: readonly (string | null)[][], batchId: number, sink: string, checkpoint: CheckpointIdentity | undefined): Promise<boolean> {
  return withClient(pool, async (client) => {
    if (checkpoint === undefined) {
      await client.query(statements.insert, values);
      return true;
    }
    const { rows } = await client.query(statements.claimAndInsert, [...values, sink, checkpoint.id, batchId]);
    return rows[0]?.claimed === 1;
  });
}

/**
 * Runs `use` on a connection of `pool`, released afterwards (discarded after a failure). A
 * connection lost while checked out emits an error besides failing its query: it is heard here,
 * or it would be an uncaught exception.
 */
export async function withClient<R>(pool: PostgresPool, use: (client: PostgresClient) => Promise<R>): Promise<R> {
  const client = await pool.connect();
  const ignore = (): void => undefined;
  client.on('error', ignore);
  try {
    const result = await use(client);
    client.off('error', ignore);
    client.release();
    return result;
  } catch (error) {
    // Discarded: it keeps the listener, as a lost connection may still report its end.
    client.release(true);
    throw error;
  }
}
