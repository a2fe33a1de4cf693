/*
 * The parts of node-postgres (`pg`) the PostgreSQL connector uses, declared structurally so that
 * the package's types need no `@types/pg` in the user's project: a `pg.Pool` is a
 * {@link PostgresPool}.
 */

/** What a query returns, as far as the connector reads it. */
export interface PostgresQueryResult {
  readonly rows: readonly Record<string, unknown>[];
  readonly rowCount: number | null;
}

/** A connection checked out of a pool (`pg.PoolClient`). */
export interface PostgresClient {
  query(text: string, values?: readonly unknown[]): Promise<PostgresQueryResult>;
  /** Returns the connection to its pool; with an error, the pool discards it. */
  release(error?: Error | boolean): void;
  /** Listens for the connection's errors (a connection lost while checked out emits one). */
  on(event: 'error', listener: (error: Error) => void): unknown;
  /** Stops listening. */
  off(event: 'error', listener: (error: Error) => void): unknown;
}

/** A pool of connections (`pg.Pool`). */
export interface PostgresPool {
  connect(): Promise<PostgresClient>;
}
