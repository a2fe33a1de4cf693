import { DuckDBInstance } from '@duckdb/node-api';
import { SluiceError, type DStream } from 'sluice';
import { serviceKey } from 'sluice/extend';

/**
 * The one in-memory DuckDB database of a streaming context's SQL operators: opened when the
 * context starts (before the operators' own start hooks, which connect to it), closed when it
 * stops (after them). Each operator has a connection of its own and keeps its tables temporary,
 * so operators never see each other's tables.
 *
 * It runs on one thread: a query's result rows then come in the same order for the same input,
 * so a replayed batch gives the same output, in the same order, without an `ORDER BY`.
 */
export class DuckDBService {
  #instance: DuckDBInstance | undefined;

  /** The open database. @throws SluiceError `SQL_FAILED` when the context has not started it. */
  get instance(): DuckDBInstance {
    if (this.#instance === undefined) throw new SluiceError('SQL_FAILED', 'The SQL operators\' DuckDB database is not open: the streaming context has not started, or has stopped');
    return this.#instance;
  }

  async open(): Promise<void> {
    try {
      this.#instance = await DuckDBInstance.create(':memory:', { threads: '1' });
    } catch (error) {
      throw new SluiceError('SQL_FAILED', `DuckDB could not open an in-memory database: ${(error as Error).message}`, { cause: error });
    }
  }

  close(): void {
    this.#instance?.closeSync();
    this.#instance = undefined;
  }
}

const DUCKDB = serviceKey<DuckDBService>('sluice/sql DuckDB database');

/** The DuckDB service of `stream`'s context, registered (with its start and stop hooks) by the first SQL operator. */
export function duckdbOf(stream: DStream<unknown>): DuckDBService {
  const services = stream.graph.services;
  let service = services.lookup(DUCKDB);
  if (service === undefined) {
    const created = new DuckDBService();
    services.provide(DUCKDB, created);
    services.onStart(() => created.open());
    services.onStop(() => {
      created.close();
    });
    service = created;
  }
  return service;
}
