import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { foreachBatch, ManualClock, StreamingContext } from 'sluice';
import 'sluice/checkpoint';

let dir: string;
let server: Server;
let port: number;
const clients: Socket[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-wal-'));
  server = createServer((socket) => clients.push(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as { port: number }).port;
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await new Promise((resolve) => server.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

const until = async (ready: () => boolean): Promise<void> => {
  for (let i = 0; i < 500 && !ready(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
};

function job(clock: ManualClock, delivered: string[], failOnce: { armed: boolean }): StreamingContext {
  const ctx = new StreamingContext({ batchInterval: 1000, clock, checkpoint: dir, defaultParallelism: 1 });
  ctx.socketTextStream('127.0.0.1', port, { name: 'lines' }).pipe(
    foreachBatch((lines) => {
      if (lines.length > 0 && failOnce.armed) {
        failOnce.armed = false;
        throw new Error('crash while the batch was being written');
      }
      delivered.push(...lines);
    }),
  );
  return ctx;
}

describe('socket source with the receiver write-ahead log', () => {
  it('is replayable when checkpointed: lines of a failed batch, and lines received but not yet batched, come out exactly once after a restart', async () => {
    const delivered: string[] = [];
    const failOnce = { armed: true };
    const clock = new ManualClock();
    const first = job(clock, delivered, failOnce);
    await first.start();
    await until(() => clients.length === 1);
    clients[0]?.write('a\nb\n');
    // Lines join batches once the write-ahead log holds them.
    await new Promise((resolve) => setTimeout(resolve, 50));
    await clock.advance(1000);
    await expect(first.awaitTermination()).rejects.toMatchObject({ code: 'USER_FUNCTION_FAILED' });
    expect(delivered).toEqual([]);

    const later = new ManualClock(1000);
    const second = job(later, delivered, failOnce);
    await second.start();
    await until(() => clients.length === 2);
    clients[1]?.write('c\n');
    await new Promise((resolve) => setTimeout(resolve, 50));
    await later.advance(2000);
    await second.stop();
    expect(delivered).toEqual(['a', 'b', 'c']);
  });
});
