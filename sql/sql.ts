import { DStream, type Operator } from 'sluice';
import { DerivedDStream } from 'sluice/extend';
import { duckdbOf } from './duckdb-service.js';
import type { BigIntMode, SqlRow } from './result-rows.js';
import { SqlEngine, type InputTable } from './sql-engine.js';
import { checkStaticTable, type StaticTable } from './static-tables.js';
import { declaredColumns, type SqlSchema } from './table-schema.js';

/** Options of {@link sql}. */
export interface SqlOptions {
  /** The operator's name, in errors, logs and metrics (default `sql#<position>`). */
  readonly name?: string;
  /**
   * The columns of the input table (`batch`), for `sql(query, options)`. Declared, a query that
   * does not fit them fails at start; inferred (the default), from the first batch with records.
   */
  readonly schema?: SqlSchema;
  /** The columns of each input table, by table name, for `sql({ orders, payments }, query, options)`. */
  readonly schemas?: Readonly<Record<string, SqlSchema>>;
  /** Tables loaded from files at start, by name, for stream-static joins (see {@link StaticTable}). */
  readonly tables?: Readonly<Record<string, StaticTable>>;
  /** How wide integer results come back (see {@link BigIntMode}; default `'number'`). */
  readonly bigints?: BigIntMode;
}

/**
 * Runs a SQL query (DuckDB's dialect) over every batch: the batch is the table `batch`, one row
 * per record, and the query's result rows, as objects, are the output batch. A record's fields
 * are its columns; a `[key, value]` pair's are `key` and `value` (or, for an object value,
 * `key` and the value's fields). The batch reaches DuckDB in columnar form (data chunks through
 * an appender), not as one `INSERT` per row.
 *
 * The operator is per batch and deterministic: the same batch gives the same rows, so it takes
 * part in replay. DuckDB runs on one thread, so without an `ORDER BY` the rows come in the same
 * order for the same input; only an `ORDER BY` makes the order part of the query's meaning.
 *
 * @param query - one `SELECT` (or `WITH ... SELECT`) over `batch` and the static tables.
 * @throws TypeError for a query that is not a string, a bad schema, static table or option.
 * @throws SluiceError `SQL_FAILED` (failing the start or the batch, naming the operator): the
 * query does not parse or bind, a static table does not load, a record's field disagrees with its
 * column's type (naming the field and the batch), or DuckDB fails.
 * @example
 * clicks.pipe(sql('SELECT page, count(*) AS views FROM batch GROUP BY page', { schema: { page: 'VARCHAR', user: 'VARCHAR' } }))
 */
export function sql<T>(query: string, options?: SqlOptions): Operator<T, SqlRow>;
/**
 * Runs a SQL query over the batches of several streams of one context and slide: each stream's
 * batch is the table named by its key, so one query can join them (`sql({ orders, payments },
 * 'SELECT ... FROM orders JOIN payments USING (id)')`). Otherwise as `sql(query, options)`.
 *
 * @throws TypeError as `sql(query, options)`, for no inputs, and for streams of different contexts or slides.
 */
export function sql(inputs: Readonly<Record<string, DStream<unknown>>>, query: string, options?: SqlOptions): DStream<SqlRow>;
export function sql<T>(first: string | Readonly<Record<string, DStream<unknown>>>, second?: string | SqlOptions, third?: SqlOptions): Operator<T, SqlRow> | DStream<SqlRow> {
  if (typeof first === 'string') {
    const options = checkOptions(first, second as SqlOptions | undefined, false);
    return (stream: DStream<T>) => sqlStream({ batch: stream }, first, options);
  }
  if (typeof first !== 'object' || first === null || typeof second !== 'string') {
    throw new TypeError("sql: call sql(query, options) as an operator, or sql({ orders, payments }, query, options) over several streams.");
  }
  return sqlStream(first, second, checkOptions(second, third, true));
}

function sqlStream(inputs: Readonly<Record<string, DStream<unknown>>>, query: string, options: SqlOptions): DStream<SqlRow> {
  const names = Object.keys(inputs);
  if (names.length === 0) throw new TypeError('sql: give at least one input stream, as { orders, payments }.');
  for (const name of names) {
    if (!((inputs[name] as unknown) instanceof DStream)) throw new TypeError(`sql: the input '${name}' is not a stream of this package.`);
    if (options.tables?.[name] !== undefined) throw new TypeError(`sql: '${name}' names both an input stream and a static table; rename one.`);
  }
  const schemas: Readonly<Record<string, SqlSchema | undefined>> = options.schemas ?? { batch: options.schema };
  for (const name of Object.keys(schemas)) {
    if (!names.includes(name)) throw new TypeError(`sql: the schemas option declares '${name}', which is not an input (the inputs are ${names.join(', ')}).`);
  }
  const tables: InputTable[] = names.map((name) => {
    const schema = schemas[name];
    return { name, declared: schema === undefined ? undefined : declaredColumns(`sql: table '${name}'`, schema) };
  });
  const holder: { engine?: SqlEngine } = {};
  const stream = new DerivedDStream<SqlRow>('sql', names.map((name) => inputs[name] as DStream<unknown>), (batches, bc) => (holder.engine as SqlEngine).run(batches, bc), options.name);
  const engine = new SqlEngine({ operator: stream.describe, query, inputs: tables, statics: options.tables ?? {}, bigints: options.bigints ?? 'number' });
  holder.engine = engine;
  const duckdb = duckdbOf(stream);
  stream.graph.services.onStart(() => engine.open(duckdb.instance));
  stream.graph.services.onStop(() => {
    engine.close();
  });
  return stream;
}

function checkOptions(query: string, options: SqlOptions | undefined, multi: boolean): SqlOptions {
  if (typeof query !== 'string' || query.trim() === '') throw new TypeError('sql: the query must be a non-empty string of SQL, such as "SELECT key, sum(amount) FROM batch GROUP BY key".');
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null) throw new TypeError('sql: options must be an object.');
  if (multi && options.schema !== undefined) throw new TypeError("sql: over several inputs, declare each table's columns in schemas: { orders: {...}, payments: {...} }.");
  if (!multi && options.schemas !== undefined) throw new TypeError('sql: for one input, declare the columns of batch in schema: { field: type }.');
  if (options.bigints !== undefined && options.bigints !== 'number' && options.bigints !== 'bigint') throw new TypeError(`sql: bigints is 'number' or 'bigint', got ${JSON.stringify(options.bigints)}.`);
  for (const [name, table] of Object.entries(options.tables ?? {})) checkStaticTable('sql', name, table);
  if (options.schema !== undefined) declaredColumns("sql: table 'batch'", options.schema);
  for (const [name, schema] of Object.entries(options.schemas ?? {})) declaredColumns(`sql: table '${name}'`, schema);
  return options;
}
