import { BIGINT, BOOLEAN, DOUBLE, DuckDBDataChunk, DuckDBTimestampValue, INTEGER, TIMESTAMP, VARCHAR, type DuckDBConnection, type DuckDBType, type DuckDBValue } from '@duckdb/node-api';
import { SluiceError } from 'sluice';
import { describeValue, fieldOf, quoteIdentifier, type Column, type SqlType } from './table-schema.js';

/** DuckDB's most rows in one data chunk (its vector size). */
const CHUNK_ROWS = 2048;

const DUCKDB_TYPES: Readonly<Record<SqlType, DuckDBType>> = { VARCHAR, DOUBLE, BIGINT, INTEGER, BOOLEAN, TIMESTAMP };

/** Where a batch's rows are loaded from, for error messages. */
export interface LoadContext {
  readonly operator: string;
  readonly batchId: number;
  readonly batchTime: number;
}

/**
 * One table of a SQL operator's connection (a temporary table, so that operators sharing the
 * context's DuckDB instance never see each other's), refilled every batch: emptied, then the
 * batch's records appended in columnar form, a data chunk of up to 2,048 rows at a time, each
 * column converted in one pass over the records.
 */
export class BatchTable {
  readonly name: string;
  readonly columns: readonly Column[];
  readonly #chunk: DuckDBDataChunk;

  private constructor(name: string, columns: readonly Column[]) {
    this.name = name;
    this.columns = columns;
    this.#chunk = DuckDBDataChunk.create(columns.map((c) => DUCKDB_TYPES[c.type]));
  }

  /** Creates the table on `connection`. */
  static async create(connection: DuckDBConnection, name: string, columns: readonly Column[]): Promise<BatchTable> {
    await connection.run(`CREATE OR REPLACE TEMP TABLE ${quoteIdentifier(name)} (${columns.map((c) => `${quoteIdentifier(c.name)} ${c.type}`).join(', ')})`);
    return new BatchTable(name, columns);
  }

  /**
   * Replaces the table's rows with `records`.
   *
   * @throws SluiceError `SQL_FAILED` when a record's field disagrees with its column's type,
   * naming the field, the table, the record and the batch.
   */
  async load(connection: DuckDBConnection, records: readonly unknown[], context: LoadContext): Promise<void> {
    await connection.run(`TRUNCATE ${quoteIdentifier(this.name)}`);
    if (records.length === 0) return;
    const appender = await connection.createAppender(this.name, 'main', 'temp');
    try {
      for (let start = 0; start < records.length; start += CHUNK_ROWS) {
        const end = Math.min(records.length, start + CHUNK_ROWS);
        this.#chunk.setColumns(this.columns.map((column) => this.#column(column, records, start, end, context)));
        appender.appendDataChunk(this.#chunk);
      }
      appender.flushSync();
    } finally {
      appender.closeSync();
    }
  }

  #column(column: Column, records: readonly unknown[], start: number, end: number, context: LoadContext): DuckDBValue[] {
    const values = new Array<DuckDBValue>(end - start);
    const { name, type } = column;
    for (let i = start; i < end; i++) {
      const value = fieldOf(records[i], name);
      values[i - start] = value === null || value === undefined ? null : toDuckDB(value, type) ?? this.#mismatch(column, value, i, context);
    }
    return values;
  }

  #mismatch(column: Column, value: unknown, index: number, context: LoadContext): never {
    throw new SluiceError(
      'SQL_FAILED',
      `The field '${column.name}' of table '${this.name}' is ${column.type}, but record ${index} of batch ${context.batchId} holds ${describeValue(value)} there; map the field to the type first, or declare it ${suggestedType(value)} in the schema option`,
      { ...context },
    );
  }
}

/** `value` as DuckDB takes it in a column of `type`; `undefined` when it does not fit. */
function toDuckDB(value: unknown, type: SqlType): DuckDBValue | undefined {
  switch (type) {
    case 'VARCHAR':
      return typeof value === 'string' ? value : undefined;
    case 'DOUBLE':
      return typeof value === 'number' ? value : undefined;
    case 'BOOLEAN':
      return typeof value === 'boolean' ? value : undefined;
    case 'BIGINT':
      if (typeof value === 'bigint') return value >= -(2n ** 63n) && value < 2n ** 63n ? value : undefined;
      return Number.isSafeInteger(value) ? BigInt(value as number) : undefined;
    case 'INTEGER': {
      const n = typeof value === 'bigint' ? Number(value) : value;
      return Number.isInteger(n) && (n as number) >= -(2 ** 31) && (n as number) < 2 ** 31 ? (n as number) : undefined;
    }
    case 'TIMESTAMP': {
      const ms = value instanceof Date ? value.getTime() : value;
      return typeof ms === 'number' && Number.isFinite(ms) ? new DuckDBTimestampValue(BigInt(Math.round(ms)) * 1000n) : undefined;
    }
  }
}

function suggestedType(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return 'VARCHAR';
    case 'number':
      return Number.isInteger(value) ? 'DOUBLE or BIGINT' : 'DOUBLE';
    case 'boolean':
      return 'BOOLEAN';
    case 'bigint':
      return 'BIGINT';
    default:
      return value instanceof Date ? 'TIMESTAMP' : 'as another type';
  }
}
