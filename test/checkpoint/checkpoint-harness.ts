import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import type { ManualClock, StreamingContext } from 'sluice';
import { until } from '../support/until.js';

/** A fresh temporary directory for every test of the file, removed after it. */
export function useTempDir(): () => string {
  let dir: string | undefined;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-ckpt-'));
  });
  afterEach(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });
  return () => {
    if (dir === undefined) throw new Error('useTempDir: no test is running.');
    return dir;
  };
}

/** A TCP server on 127.0.0.1 for socket sources to connect to: its port, and the sockets of the clients it accepted. */
export interface LineServer {
  readonly port: number;
  /** Accepted connections, in order; write lines to them. */
  readonly clients: readonly Socket[];
  /** Waits, turn by turn of the event loop, until `n` clients have connected. */
  connected(n: number): Promise<void>;
}

/** A fresh {@link LineServer} for every test of the file (or describe block), closed after it. */
export function useLineServer(): LineServer {
  let server: Server | undefined;
  let port = 0;
  const clients: Socket[] = [];
  beforeEach(async () => {
    const started = createServer((socket) => clients.push(socket));
    await new Promise<void>((resolve) => started.listen(0, '127.0.0.1', resolve));
    server = started;
    port = (started.address() as { port: number }).port;
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.destroy();
    await new Promise((resolve) => server?.close(resolve));
  });
  return {
    get port() {
      return port;
    },
    clients,
    connected(n) {
      return until(() => clients.length >= n, `${n} clients to connect to the line server`);
    },
  };
}

/** Starts `ctx` and advances `clock` by `n` batch intervals, fewer when the context stops on a failure. */
export async function runFor(ctx: StreamingContext, clock: ManualClock, n: number): Promise<void> {
  await ctx.start();
  for (let i = 0; i < n && ctx.state === 'active'; i++) await clock.advance(ctx.batchInterval);
}
