import type { Socket } from 'node:net';
import { afterEach, beforeEach } from 'vitest';
import { foreachBatch, ManualClock, mapToPair, StreamingContext } from 'sluice';
import { levelCheckpoint } from 'sluice/checkpoint';
import { updateStateByKey } from 'sluice/state';
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

/** What each batch of {@link longKeyCounts} output: the number of keys with state (every record has its own key). */
export type KeyCounts = Map<number, number>;

/**
 * A checkpointed count per key over 200-character keys, one new key per record, 10 records a
 * batch: long keys, so LevelDB's tables hold several blocks and its log spans several 32 KiB
 * blocks (the damage tests need both). Backfilled: batch k holds records 10k..10k+9 however late
 * it runs, also the batches a restart runs back to back.
 */
export function longKeyCounts(path: string, clock: ManualClock, outputs: KeyCounts): StreamingContext {
  const ctx = new StreamingContext({ batchInterval: 1000, clock, checkpoint: levelCheckpoint(path) });
  ctx
    .rateStream({ rowsPerSecond: 1000, startTime: 0, backfill: true, maxRecordsPerBatch: 10, generate: (i) => `key-${i}-`.padEnd(200, '.') })
    .pipe(
      mapToPair((k: string) => [k, 1]),
      updateStateByKey((ones: number[], n: number | undefined) => (n ?? 0) + ones.length, { name: 'counts' }),
      foreachBatch((records, { batchId }) => void outputs.set(batchId, records.length)),
    );
  return ctx;
}

/** Runs {@link longKeyCounts} on `path` from batch `from` for `batches` batches, then stops it. */
export async function runLongKeyCounts(path: string, from: number, batches: number, outputs: KeyCounts = new Map()): Promise<StreamingContext> {
  const clock = new ManualClock(from * 1000);
  const ctx = longKeyCounts(path, clock, outputs);
  await runFor(ctx, clock, batches);
  await ctx.stop();
  return ctx;
}
