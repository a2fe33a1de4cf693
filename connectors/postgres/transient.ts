/*
 * Which PostgreSQL failures a sink tries again: a lost or refused connection, a server shutting
 * down or starting, a serialization failure or a deadlock. Everything else (a missing table, a
 * value PostgreSQL refuses, a permission) fails at once: trying again would fail the same way.
 */

/** Node's socket error codes of a connection that failed or was lost. */
const NETWORK = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

/** SQLSTATE classes and codes worth another attempt. */
const TRANSIENT_STATES = new Set(['40001', '40P01', '57P01', '57P02', '57P03', '53300']);

/** Whether `error` is a failure another attempt may not meet. */
export function isTransient(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (NETWORK.has(code) || TRANSIENT_STATES.has(code) || code.startsWith('08'))) return true;
  const message = error instanceof Error ? error.message : '';
  // node-postgres's own words for a connection that ended under a query.
  return /Connection terminated|connection is closed|Client has encountered a connection error/i.test(message);
}

/** The delay before retry `n` (from 0): 100 ms, doubling, at most 5 s. */
export function retryDelay(n: number): number {
  return Math.min(5_000, 100 * 2 ** n);
}

/** A connection string's server for messages (`host:port/database`), without user or password. */
export function whereIs(connectionString: string): string {
  try {
    const url = new URL(connectionString);
    return `${url.hostname || 'localhost'}:${url.port || '5432'}${url.pathname}`;
  } catch {
    return 'the server of connectionString';
  }
}
