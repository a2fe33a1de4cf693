/**
 * `sluice/sql`: SQL on streams with DuckDB (the optional peer `@duckdb/node-api`). `sql(query)`
 * runs a query over every batch (and `sql({ orders, payments }, query)` over several streams'
 * batches), with static tables loaded from CSV, Parquet or NDJSON files; `queryState(ctx, query)`
 * and `queryCheckpoint(directory, query)` run read-only queries over a job's committed state.
 * Importing this module changes nothing by itself. See docs/sql.md.
 */
export type { BigIntMode, SqlRow } from './result-rows.js';
export { sql, type SqlOptions } from './sql.js';
export type { StaticTable } from './static-tables.js';
export type { SqlSchema, SqlType } from './table-schema.js';
export { queryCheckpoint, queryState } from './query-state.js';
export type { StateQueryOptions, StateQueryResult } from './read-only-query.js';
