import pg from 'pg';
import { SluiceError, type DStream } from 'sluice';
import { OutputOperation, type CheckpointIdentity } from 'sluice/extend';
import { columnArrays, withClient, writeBatch } from './batch-write.js';
import { checkColumns, type Column, type PostgresColumn } from './columns.js';
import { quoteTableName } from './identifiers.js';
import type { PostgresPool } from './pg-client.js';
import { sinkStatements, type SinkStatements } from './sink-statements.js';
import { isTransient, retryDelay, whereIs } from './transient.js';
import { claimSinkName } from '../sink-names.js';

/** Options of {@link postgresSink}. */
export interface PostgresSinkOptions<T> {
  /** A pool to write through (a `pg.Pool`); the sink never ends it. Give this or `connectionString`. */
  readonly pool?: PostgresPool;
  /** Where to connect (`postgres://user@host:5432/db`): the sink opens a pool of one connection at start and ends it at stop. */
  readonly connectionString?: string;
  /** The table: `'alerts'` or `'schema.alerts'` (each part quoted as written). */
  readonly table: string;
  /** The table's columns, in order: each with its type and how a record gives its value. */
  readonly columns: Readonly<Record<string, PostgresColumn<T>>>;
  /**
   * `'append'` (default): every record is a new row. `'upsert'`: a record replaces the row with
   * its `key` (`INSERT ... ON CONFLICT (key) DO UPDATE`); within a batch the last record of a
   * key wins.
   */
  readonly mode?: 'append' | 'upsert';
  /** The key columns of `'upsert'` (the table's primary key or a unique constraint on them). */
  readonly key?: readonly string[];
  /** Creates the table at start if it does not exist, with the declared columns (and the key as primary key). Default `false`. */
  readonly createTable?: boolean;
  /** The table where the sink records the last batch it wrote per checkpoint (default `sluice_sink_progress`, created if missing). */
  readonly progressTable?: string;
  /**
   * The sink's stable name: its progress is recorded under it, so keep it when the program
   * changes (default `postgresSink:<table>`; two sinks to one table need names of their own).
   */
  readonly name?: string;
  /** How many times a batch's transaction is tried again after a lost connection or a serialization failure (default 3). */
  readonly retries?: number;
}

/**
 * Writes every batch to a PostgreSQL table in one transaction, exactly once. With a checkpoint,
 * the transaction also records the batch in a progress table, keyed by the sink's name and the
 * checkpoint's id: a batch replayed after a crash (even one that came after PostgreSQL's commit
 * and before the checkpoint's) finds itself recorded and writes nothing, so the table holds every
 * batch once. Without a checkpoint there is no replay, and each batch is one plain transaction.
 * Rows go in one bulk statement per batch (an `unnest` of one array per column). A value that
 * does not fit its column fails the batch (`SINK_FAILED`, naming the column, the record and the
 * batch); validate records upstream with an `onError: 'deadLetter'` operator to route them instead.
 *
 * Every batch reports `recordsWritten`, `retries` and `alreadyWritten` in its progress event.
 *
 * @throws TypeError at definition for missing or malformed options.
 * @throws SluiceError `SINK_FAILED` (failing the batch, nothing written) when PostgreSQL refuses
 * the write or stays unreachable after `retries`; nothing is lost: the batch is replayed on restart.
 * @example
 * alerts.pipe(postgresSink({
 *   connectionString: 'postgres://127.0.0.1/app', table: 'alerts', mode: 'upsert', key: ['card'],
 *   columns: { card: { type: 'text', value: (a) => a.card }, total: { type: 'double precision', value: (a) => a.total } },
 * }));
 */
export function postgresSink<T>(options: PostgresSinkOptions<T>): (stream: DStream<T>) => OutputOperation<T> {
  const what = 'postgresSink';
  const settings = checkOptions(what, options);
  return (stream) => {
    claimSinkName(stream, what, settings.name, 'its progress is recorded under it');
    let pool: PostgresPool | undefined = options.pool;
    let owned: pg.Pool | undefined;
    let checkpoint: CheckpointIdentity | undefined;
    const output: OutputOperation<T> = new OutputOperation<T>(
      what,
      stream,
      async (batch, { batchId }, bc) => {
        const values = columnArrays(batch.partitions, settings.columns, settings.key, output.describe, batchId);
        const records = values[0]?.length ?? 0;
        // Nothing to write: no transaction (a replay of an empty batch has nothing to skip either).
        if (records === 0) return;
        if (pool === undefined) throw new SluiceError('SINK_FAILED', `${output.describe}: the sink was not started with its context.`, { operator: output.describe, batchId });
        const result = await withRetries(settings, output.describe, batchId, () => writeBatch(pool as PostgresPool, settings.statements, values, batchId, settings.name, checkpoint));
        bc.reportOperator({ operator: output.describe, recordsWritten: result.value ? records : 0, retries: result.retries, alreadyWritten: !result.value });
      },
      settings.name,
    );
    stream.graph.addCommitParticipant({
      name: output.describe,
      initialize: async (_restored, identity) => {
        checkpoint = identity;
        if (pool === undefined) {
          owned = new pg.Pool({ connectionString: settings.connectionString, max: 1 });
          owned.on('error', () => undefined); // an idle connection lost: the next batch reconnects
          pool = owned;
        }
        await withRetries(settings, output.describe, undefined, () =>
          withClient(pool as PostgresPool, async (client) => {
            if (settings.createTable) await client.query(settings.statements.createTable);
            if (checkpoint !== undefined) await client.query(settings.statements.createProgress);
          }),
        );
      },
      prepare: () => undefined,
      committed: () => undefined,
      // Pipelined commit: it writes only in its output, which waits for the commit of the batch before.
      handOff: () => undefined,
      aborted: () => undefined,
    });
    stream.graph.services.onStop(async () => {
      if (owned === undefined) return;
      const ending = owned;
      owned = undefined;
      pool = options.pool;
      await ending.end();
    });
    return output;
  };
}

/** The checked options. */
interface Settings<T> {
  readonly name: string;
  readonly table: string;
  readonly where: string;
  readonly columns: readonly Column<T>[];
  readonly key: readonly string[];
  readonly connectionString: string | undefined;
  readonly createTable: boolean;
  readonly retries: number;
  readonly statements: SinkStatements;
}

function checkOptions<T>(what: string, options: PostgresSinkOptions<T>): Settings<T> {
  if (typeof options !== 'object' || options === null) throw new TypeError(`${what}: give options: { connectionString | pool, table, columns }.`);
  const { pool, connectionString, mode = 'append', key = [], createTable = false, retries = 3, progressTable = 'sluice_sink_progress' } = options;
  if ((pool === undefined) === (connectionString === undefined)) throw new TypeError(`${what}: give exactly one of pool (a pg.Pool) and connectionString.`);
  if (pool !== undefined && typeof (pool as Partial<PostgresPool>).connect !== 'function') throw new TypeError(`${what}: pool must be a pg.Pool (an object with connect()).`);
  if (connectionString !== undefined && (typeof connectionString !== 'string' || connectionString === '')) throw new TypeError(`${what}: connectionString must be a non-empty string such as 'postgres://127.0.0.1:5432/app'.`);
  if (mode !== 'append' && mode !== 'upsert') throw new TypeError(`${what}: mode must be 'append' or 'upsert', got ${JSON.stringify(mode)}.`);
  if (!Array.isArray(key) || !key.every((k) => typeof k === 'string' && k !== '')) throw new TypeError(`${what}: key must be an array of column names.`);
  if (mode === 'upsert' && key.length === 0) throw new TypeError(`${what}: mode 'upsert' needs key: the columns of the table's primary key or unique constraint.`);
  if (mode === 'append' && key.length > 0) throw new TypeError(`${what}: key is for mode 'upsert'; remove it, or set mode: 'upsert'.`);
  if (typeof createTable !== 'boolean') throw new TypeError(`${what}: createTable must be true or false.`);
  if (!Number.isSafeInteger(retries) || retries < 0) throw new TypeError(`${what}: retries must be a whole number of at least 0, got ${String(retries)}.`);
  const table = quoteTableName(what, options.table);
  const columns = checkColumns<T>(what, options.columns, key);
  const name = options.name ?? `${what}:${options.table}`;
  if (typeof name !== 'string' || name === '') throw new TypeError(`${what}: name must be a non-empty string.`);
  return {
    name,
    table: options.table,
    where: connectionString === undefined ? `table ${options.table}` : `table ${options.table} at ${whereIs(connectionString)}`,
    columns,
    key,
    connectionString,
    createTable,
    retries,
    statements: sinkStatements(table, columns, key, quoteTableName(what, progressTable)),
  };
}

/**
 * Runs `attempt` until it succeeds, trying again after a transient failure up to `retries` times
 * with a doubling delay.
 *
 * @throws SluiceError `SINK_FAILED` naming the table and server when it fails for good.
 */
async function withRetries<T, R>(settings: Settings<T>, operator: string, batchId: number | undefined, attempt: () => Promise<R>): Promise<{ value: R; retries: number }> {
  for (let retries = 0; ; retries++) {
    try {
      return { value: await attempt(), retries };
    } catch (error) {
      if (isTransient(error) && retries < settings.retries) {
        await new Promise((resolve) => setTimeout(resolve, retryDelay(retries)));
        continue;
      }
      const message = error instanceof Error ? error.message : String(error);
      const tried = isTransient(error) ? ` after ${retries + 1} attempts; check that PostgreSQL is up and reachable` : '';
      const outcome = batchId === undefined ? 'get ready to write' : `write batch ${batchId}`;
      const after = batchId === undefined ? 'The context did not start.' : 'Nothing of the batch was written; a restart replays it.';
      throw new SluiceError('SINK_FAILED', `${operator} could not ${outcome} to ${settings.where}${tried}: ${message}. ${after}`, {
        operator,
        ...(batchId === undefined ? {} : { batchId }),
        cause: error,
      });
    }
  }
}
