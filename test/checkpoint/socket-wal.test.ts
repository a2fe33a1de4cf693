import { describe, expect, it } from 'vitest';
import { foreachBatch, ManualClock, SocketSource, StreamingContext } from 'sluice';
import { levelCheckpoint } from 'sluice/checkpoint';
import { until } from '../support/until.js';
import { useLineServer, useTempDir } from './checkpoint-harness.js';

const dir = useTempDir();
const lines = useLineServer();

function job(clock: ManualClock, delivered: string[], failOnce: { armed: boolean }): { ctx: StreamingContext; source: SocketSource } {
  const ctx = new StreamingContext({ batchInterval: 1000, clock, checkpoint: levelCheckpoint(dir()), defaultParallelism: 1 });
  const source = new SocketSource('127.0.0.1', lines.port);
  ctx.source(source, { name: 'lines' }).pipe(
    foreachBatch((batch) => {
      if (batch.length > 0 && failOnce.armed) {
        failOnce.armed = false;
        throw new Error('crash while the batch was being written');
      }
      delivered.push(...batch);
    }),
  );
  return { ctx, source };
}

describe('socket source with the receiver write-ahead log', () => {
  it('is replayable when checkpointed: lines of a failed batch, and lines received but not yet batched, come out exactly once after a restart', async () => {
    const delivered: string[] = [];
    const failOnce = { armed: true };
    const clock = new ManualClock();
    const { ctx: first, source } = job(clock, delivered, failOnce);
    await first.start();
    await lines.connected(1);
    lines.clients[0]?.write('a\nb\n');
    // Lines join batches once the write-ahead log holds them.
    await until(() => source.received === 2, 'lines a and b in the write-ahead log');
    await clock.advance(1000);
    await expect(first.awaitTermination()).rejects.toMatchObject({ code: 'USER_FUNCTION_FAILED' });
    expect(delivered).toEqual([]);

    const later = new ManualClock(1000);
    const { ctx: second, source: restarted } = job(later, delivered, failOnce);
    await second.start();
    await lines.connected(2);
    lines.clients[1]?.write('c\n');
    // Indexes go on after the two lines the log kept.
    await until(() => restarted.received === 3, 'line c in the write-ahead log');
    await later.advance(2000);
    await second.stop();
    expect(delivered).toEqual(['a', 'b', 'c']);
  });
});
