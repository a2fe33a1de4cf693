import { StatementType, type DuckDBConnection, type DuckDBInstance, type DuckDBPreparedStatement } from '@duckdb/node-api';
import { Batch, SluiceError, type ErrorContext } from 'sluice';
import type { BatchContext } from 'sluice/extend';
import { BatchTable } from './batch-table.js';
import { resultRows, type BigIntMode, type SqlRow } from './result-rows.js';
import { loadStaticTable, type StaticTable } from './static-tables.js';
import { inferColumns, type Column } from './table-schema.js';

/** One input table of a SQL operator: its name, and its columns when declared. */
export interface InputTable {
  readonly name: string;
  readonly declared: readonly Column[] | undefined;
}

/** What a SQL operator runs: its query over its input tables and static tables. */
export interface SqlPlan {
  readonly operator: string;
  readonly query: string;
  readonly inputs: readonly InputTable[];
  readonly statics: Readonly<Record<string, StaticTable>>;
  readonly bigints: BigIntMode;
}

/**
 * A SQL operator's side of DuckDB: its connection, its tables and its prepared query. Opened at
 * the context's start (static tables loaded, declared tables created, the query prepared, so a
 * bad query fails the start), run once per batch, closed at stop.
 */
export class SqlEngine {
  readonly #plan: SqlPlan;
  #connection: DuckDBConnection | undefined;
  #tables: (BatchTable | undefined)[] = [];
  /** Whether the query has prepared against the tables (it is then run afresh each batch: a plan kept across batches would keep the first batch's column statistics). */
  #checked = false;

  constructor(plan: SqlPlan) {
    this.#plan = plan;
  }

  /** @throws SluiceError `SQL_FAILED` for a static table that cannot be loaded, or a query that does not parse (or, with every schema declared, does not prepare). */
  async open(instance: DuckDBInstance): Promise<void> {
    const { operator, query, inputs, statics } = this.#plan;
    const connection = await instance.connect();
    this.#connection = connection;
    for (const [name, table] of Object.entries(statics)) await loadStaticTable(connection, name, table, operator);
    try {
      const statements = await connection.extractStatements(query);
      if (statements.count !== 1) throw new Error(`it holds ${statements.count} statements; give one SELECT`);
    } catch (error) {
      throw this.#failed(`does not parse: ${(error as Error).message}`, { operator }, error);
    }
    this.#tables = [];
    for (const input of inputs) this.#tables.push(input.declared === undefined ? undefined : await BatchTable.create(connection, input.name, input.declared));
    if (this.#tables.every((table) => table !== undefined)) await this.#prepare({ operator });
  }

  close(): void {
    this.#checked = false;
    this.#connection?.closeSync();
    this.#connection = undefined;
  }

  /**
   * The query's result over one batch of each input. Until every undeclared table has seen a
   * batch with records (which fixes its columns), the result is empty.
   *
   * @throws SluiceError `SQL_FAILED` naming the operator and the batch.
   */
  async run(batches: readonly Batch<unknown>[], bc: BatchContext): Promise<Batch<SqlRow>> {
    const context = { operator: this.#plan.operator, batchId: bc.batchId, batchTime: bc.batchTime };
    const connection = this.#connection;
    if (connection === undefined) throw this.#failed('ran before its connection opened (the streaming context has not started)', context);
    try {
      let ready = true;
      for (let i = 0; i < this.#plan.inputs.length; i++) {
        const records = recordsOf(batches[i] as Batch<unknown>);
        let table = this.#tables[i];
        if (table === undefined) {
          if (records.length === 0) {
            ready = false;
            continue;
          }
          const { name } = this.#plan.inputs[i] as InputTable;
          table = await BatchTable.create(connection, name, inferColumns(name, records, context));
          this.#tables[i] = table;
        }
        await table.load(connection, records, context);
      }
      if (!ready) return Batch.empty();
      if (!this.#checked) await this.#prepare(context);
      return Batch.of(resultRows(await connection.runAndReadAll(this.#plan.query), this.#plan.bigints));
    } catch (error) {
      if (error instanceof SluiceError) throw error;
      throw this.#failed(`failed on batch ${bc.batchId}: ${(error as Error).message}`, context, error);
    }
  }

  /** Prepares the query once, to check that it binds and is a SELECT. */
  async #prepare(context: ErrorContext): Promise<void> {
    const connection = this.#connection as DuckDBConnection;
    let prepared: DuckDBPreparedStatement;
    try {
      prepared = await connection.prepare(this.#plan.query);
    } catch (error) {
      const columns = this.#tables.map((t) => (t === undefined ? '' : `${t.name}(${t.columns.map((c) => `${c.name} ${c.type}`).join(', ')})`)).join(', ');
      throw this.#failed(`does not prepare against its tables ${columns}: ${(error as Error).message}`, context, error);
    }
    const type = prepared.statementType;
    prepared.destroySync();
    if (type !== StatementType.SELECT) throw this.#failed('is not a query: give one SELECT (or WITH ... SELECT) statement', context);
    this.#checked = true;
  }

  #failed(what: string, context: ErrorContext, cause?: unknown): SluiceError {
    return new SluiceError('SQL_FAILED', `The SQL query of ${this.#plan.operator} ${what}`, { ...context, ...(cause === undefined ? {} : { cause }) });
  }
}

/** A batch's records as one array, without a copy for a batch of one partition. */
function recordsOf(batch: Batch<unknown>): readonly unknown[] {
  return batch.partitions.length === 1 ? (batch.partitions[0] as readonly unknown[]) : batch.toArray();
}
