import type { Socket } from 'node:net';
import { afterEach, beforeEach } from 'vitest';
import type { ManualClock, StreamingContext } from 'sluice';
import { LineServer } from '../support/line-server.js';

export { useTempDir } from '../support/temp-dir.js';

/** A TCP server on 127.0.0.1 for socket sources to connect to: its port, and the sockets of the clients it accepted. */
export interface UsedLineServer {
  readonly port: number;
  /** Accepted connections, in order; write lines to them. */
  readonly clients: readonly Socket[];
  /** Resolves once `n` clients have connected. */
  connected(n: number): Promise<void>;
}

/** A fresh {@link LineServer} for every test of the file (or describe block), closed after it. */
export function useLineServer(): UsedLineServer {
  let server: LineServer | undefined;
  beforeEach(async () => {
    server = await LineServer.listen();
  });
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });
  const current = (): LineServer => {
    if (server === undefined) throw new Error('useLineServer: no test is running.');
    return server;
  };
  return {
    get port() {
      return current().port;
    },
    get clients() {
      return current().connections;
    },
    async connected(n) {
      await current().connection(n);
    },
  };
}

/** Starts `ctx` and advances `clock` by `n` batch intervals, fewer when the context stops on a failure. */
export async function runFor(ctx: StreamingContext, clock: ManualClock, n: number): Promise<void> {
  await ctx.start();
  for (let i = 0; i < n && ctx.state === 'active'; i++) await clock.advance(ctx.batchInterval);
}
