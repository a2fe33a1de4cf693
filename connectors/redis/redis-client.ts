import { createClient } from 'redis';

/*
 * The part of a Redis client the connectors use: raw commands (`sendCommand`), which every
 * node-redis client has. Declared structurally so that the package's types need nothing from
 * node-redis in the user's project.
 */

/** A connected Redis client (a node-redis `RedisClientType`), as the connectors use it. */
export interface RedisCommands {
  /** Sends one command (`['XRANGE', key, '-', '+']`) and resolves with Redis's raw reply. */
  sendCommand(args: string[]): Promise<unknown>;
}

/** A client the connector opened itself, and how to close it. */
export interface OwnedClient {
  readonly client: RedisCommands;
  close(): Promise<void>;
}

/**
 * Connects to `url` with node-redis. The client reconnects by itself after a lost connection
 * (commands meanwhile fail at once, and the connectors' retries take over); its `error` events, which it emits for every
 * failed attempt, are heard here, so a server going away never crashes the process.
 */
export async function openClient(url: string, onError: (error: Error) => void): Promise<OwnedClient> {
  let connected = false;
  // Before the first connection, three attempts (start fails with the cause); after it, the client
  // reconnects for as long as it runs, and commands fail at once meanwhile (no offline queue), so
  // that a batch tries again, or fails, on its own terms.
  const reconnectStrategy = (retries: number, cause: Error): number | Error => (connected || retries < 3 ? Math.min(50 * 2 ** retries, 2_000) : cause);
  const client = createClient({ url, disableOfflineQueue: true, socket: { connectTimeout: 2_000, reconnectStrategy } });
  client.on('error', onError);
  await client.connect();
  connected = true;
  return {
    client: { sendCommand: (args) => client.sendCommand(args) },
    close: async () => {
      if (client.isOpen) await client.close();
    },
  };
}

/** Whether `error` says the server could not be reached or the connection was lost (worth another attempt). */
export function isConnectionError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, name, message } = error as { code?: unknown; name?: unknown; message?: unknown };
  if (typeof code === 'string' && ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN'].includes(code)) return true;
  if (typeof name === 'string' && /ConnectionTimeout|SocketClosedUnexpectedly|ClientClosed|ClientOffline|Disconnects/.test(name)) return true;
  return typeof message === 'string' && /LOADING|Connection is closed|Socket closed|client is closed|offline/i.test(message);
}

/** A `redis://` URL for messages: host, port and database, without user or password. */
export function whereIs(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname || 'localhost'}:${parsed.port || '6379'}${parsed.pathname === '/' ? '' : parsed.pathname}`;
  } catch {
    return 'the server of url';
  }
}

/**
 * Runs `attempt`, trying again after a connection failure up to `retries` times (waiting 100 ms,
 * 200 ms, ... at most 2 s); `onRetry` hears each retry.
 */
export async function withRetries<R>(retries: number, attempt: () => Promise<R>, onRetry: (n: number, error: unknown) => void): Promise<{ value: R; retries: number }> {
  for (let n = 0; ; n++) {
    try {
      return { value: await attempt(), retries: n };
    } catch (error) {
      if (!isConnectionError(error) || n >= retries) throw error;
      onRetry(n + 1, error);
      await new Promise((resolve) => setTimeout(resolve, Math.min(2_000, 100 * 2 ** n)));
    }
  }
}
