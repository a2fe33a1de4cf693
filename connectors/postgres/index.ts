/**
 * `sluice/postgres`: PostgreSQL connectors. Needs the optional peer dependency `pg`
 * (`npm install pg`); `import 'sluice'` never loads it.
 */
export type { PostgresColumn, PostgresColumnType } from './columns.js';
export type { PostgresClient, PostgresPool, PostgresQueryResult } from './pg-client.js';
export { postgresSink, type PostgresSinkOptions } from './postgres-sink.js';
export { postgresTable, type PostgresTable, type PostgresTableOptions, type TableSnapshot } from './postgres-table.js';
export { joinTable, leftJoinTable } from './table-join.js';
export type { RefreshFailure } from './table-source.js';
