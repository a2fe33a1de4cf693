import { connect, type NatsConnection } from '@nats-io/transport-node';
import { SluiceError } from 'sluice';

/*
 * The connection a NATS connector holds, and the retry rule around every call it makes: a lost or
 * refused connection, a timeout or no responders (a server restarting) is tried again after a
 * doubling delay, up to a number of retries, on a fresh connection; anything else (a stream that
 * does not exist, a permission) fails at once.
 */

/** Error names of the NATS client that another attempt may not meet. */
const TRANSIENT_NAMES = new Set(['TimeoutError', 'NoRespondersError', 'ClosedConnectionError', 'ConnectionError', 'DrainingConnectionError', 'RequestError']);

/** Node's socket error codes of a connection that failed or was lost. */
const NETWORK = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'CONNECTION_REFUSED']);

/** Whether `error` is a failure another attempt, on a fresh connection, may not meet. */
export function isTransient(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { name, code } = error as { name?: unknown; code?: unknown };
  if (typeof name === 'string' && TRANSIENT_NAMES.has(name)) return true;
  if (typeof code === 'string' && NETWORK.has(code)) return true;
  const cause = (error as { cause?: unknown }).cause;
  return cause !== undefined && cause !== error && isTransient(cause);
}

/** The delay before retry `n` (from 0): 100 ms, doubling, at most 5 s. */
export function retryDelay(n: number): number {
  return Math.min(5_000, 100 * 2 ** n);
}

/** The checked `servers` option, as the client takes it. */
export function checkServers(what: string, servers: unknown): string | string[] {
  if (typeof servers === 'string' && servers !== '') return servers;
  if (Array.isArray(servers) && servers.length > 0 && servers.every((s) => typeof s === 'string' && s !== '')) return [...(servers as string[])];
  throw new TypeError(`${what}: servers must be a server address or a non-empty array of them, such as '127.0.0.1:4222'.`);
}

/** The checked `retries` option (default 3). */
export function checkRetries(what: string, retries: unknown = 3): number {
  if (typeof retries !== 'number' || !Number.isSafeInteger(retries) || retries < 0) throw new TypeError(`${what}: retries must be a whole number of at least 0, got ${String(retries)}.`);
  return retries;
}

/** A message's text for errors. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * One connection to a NATS server, opened on first use and opened again after a transient
 * failure. `call` runs an operation with retries and counts them.
 */
export class NatsLink {
  readonly servers: string | string[];
  readonly #retries: number;
  #connection: Promise<NatsConnection> | undefined;
  /** Retries since the count was last taken. */
  #retried = 0;

  readonly #onRetry: (error: unknown, attempt: number, delayMs: number) => void;

  /** `onRetry` hears each failed attempt that is tried again (to log it). */
  constructor(servers: string | string[], retries: number, onRetry: (error: unknown, attempt: number, delayMs: number) => void = () => undefined) {
    this.servers = servers;
    this.#retries = retries;
    this.#onRetry = onRetry;
  }

  /** The servers, for messages. */
  get where(): string {
    return Array.isArray(this.servers) ? this.servers.join(', ') : this.servers;
  }

  /** The retries counted since the last call, reset. */
  takeRetries(): number {
    const n = this.#retried;
    this.#retried = 0;
    return n;
  }

  /** The open connection (opened now if there is none). */
  connection(): Promise<NatsConnection> {
    if (this.#connection === undefined) {
      const opening = connect({ servers: this.servers, reconnect: false, timeout: 2_000, name: 'sluice' });
      this.#connection = opening;
      opening.catch(() => {
        if (this.#connection === opening) this.#connection = undefined;
      });
    }
    return this.#connection;
  }

  /**
   * Runs `attempt` on the connection until it succeeds, trying again on a fresh connection after
   * a transient failure, up to `retries` times with a doubling delay.
   *
   * @throws SluiceError `code` naming the server and `what` failed, with the last error as cause.
   */
  async call<R>(code: 'SOURCE_FAILED' | 'SINK_FAILED', what: string, attempt: (nc: NatsConnection) => Promise<R>, details: { readonly source?: string; readonly operator?: string; readonly batchId?: number } = {}): Promise<R> {
    for (let retries = 0; ; retries++) {
      try {
        return await attempt(await this.connection());
      } catch (error) {
        if (error instanceof SluiceError) throw error;
        if (isTransient(error)) await this.#drop();
        if (isTransient(error) && retries < this.#retries) {
          this.#retried++;
          this.#onRetry(error, retries + 1, retryDelay(retries));
          await new Promise((resolve) => setTimeout(resolve, retryDelay(retries)));
          continue;
        }
        const tried = isTransient(error) ? ` after ${retries + 1} attempts; check that the NATS server is up and reachable at ${this.where}` : ` (server ${this.where})`;
        throw new SluiceError(code, `${what}${tried}: ${messageOf(error)}.`, { ...details, cause: error });
      }
    }
  }

  /** Closes the connection, if open. */
  async close(): Promise<void> {
    await this.#drop();
  }

  async #drop(): Promise<void> {
    const open = this.#connection;
    this.#connection = undefined;
    if (open === undefined) return;
    try {
      await (await open).close();
    } catch {
      // It failed to open or is already closed: nothing to release.
    }
  }
}
