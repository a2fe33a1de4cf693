import type { Column } from './columns.js';
import { quoteIdentifier } from './identifiers.js';

/*
 * The SQL a PostgreSQL sink runs. Rows go in bulk: one statement per batch, each column one array
 * parameter unnested into rows (`INSERT ... SELECT * FROM unnest($1::text[], $2::int8[], ...)`),
 * so a batch of any size is one round trip with as many parameters as columns. With a checkpoint,
 * the claim of the batch in the progress table joins that statement as a data-modifying `WITH`:
 * one statement is one transaction, so claim and rows commit together or not at all, in one
 * round trip.
 */

/** The statements of one sink, built once at definition. */
export interface SinkStatements {
  /** Creates the table if missing (`createTable`). */
  readonly createTable: string;
  /** Writes a batch's rows: parameters are the columns' value arrays, in column order. */
  readonly insert: string;
  /** Creates the progress table if missing. */
  readonly createProgress: string;
  /**
   * Claims the batch and writes its rows in one statement: parameters are the columns' value
   * arrays, then sink, checkpoint id and batch id; returns one row, `claimed` 1, or 0 when the
   * batch (or a later one) was written already and nothing was.
   */
  readonly claimAndInsert: string;
}

/** The statements of a sink writing `columns` to `table` (both quoted), upserting on `key` when it is not empty. */
export function sinkStatements(table: string, columns: readonly Column<never>[], key: readonly string[], progressTable: string): SinkStatements {
  const names = columns.map((c) => c.quoted).join(', ');
  const arrays = columns.map((c, i) => `$${i + 1}::${c.type}[]`).join(', ');
  const keyColumns = key.map(quoteIdentifier).join(', ');
  const updated = columns.filter((c) => !key.includes(c.name));
  const onConflict =
    key.length === 0 ? '' : updated.length === 0 ? ` ON CONFLICT (${keyColumns}) DO NOTHING` : ` ON CONFLICT (${keyColumns}) DO UPDATE SET ${updated.map((c) => `${c.quoted} = EXCLUDED.${c.quoted}`).join(', ')}`;
  const definitions = columns.map((c) => `${c.quoted} ${c.type}${c.nullable ? '' : ' NOT NULL'}`);
  if (key.length > 0) definitions.push(`PRIMARY KEY (${keyColumns})`);
  // Claims the batch (parameters n+1..n+3: sink, checkpoint id, batch id): a row unless it, or a later one, was written.
  const claim = (n: number): string =>
    `INSERT INTO ${progressTable} AS p (sink, checkpoint_id, batch_id) VALUES ($${n + 1}, $${n + 2}, $${n + 3}) ` +
    'ON CONFLICT (sink, checkpoint_id) DO UPDATE SET batch_id = EXCLUDED.batch_id, written_at = now() WHERE p.batch_id < EXCLUDED.batch_id RETURNING batch_id';
  return {
    createTable: `CREATE TABLE IF NOT EXISTS ${table} (${definitions.join(', ')})`,
    insert: `INSERT INTO ${table} (${names}) SELECT * FROM unnest(${arrays})${onConflict}`,
    createProgress: `CREATE TABLE IF NOT EXISTS ${progressTable} (sink text NOT NULL, checkpoint_id text NOT NULL, batch_id bigint NOT NULL, written_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (sink, checkpoint_id))`,
    claimAndInsert:
      `WITH claim AS (${claim(columns.length)}), ` +
      `written AS (INSERT INTO ${table} (${names}) SELECT * FROM unnest(${arrays}) WHERE EXISTS (SELECT FROM claim)${onConflict}) ` +
      'SELECT count(*)::int AS claimed FROM claim',
  };
}
