import { describe, expect, it } from 'vitest';
import { foreachBatch, ManualClock, StreamingContext } from 'sluice';
import { levelCheckpoint } from 'sluice/checkpoint';
import { useLineServer, useTempDir } from './checkpoint-harness.js';

const dir = useTempDir();
const lines = useLineServer();

function job(clock: ManualClock, delivered: string[], failOnce: { armed: boolean }): StreamingContext {
  const ctx = new StreamingContext({ batchInterval: 1000, clock, checkpoint: levelCheckpoint(dir()), defaultParallelism: 1 });
  ctx.socketTextStream('127.0.0.1', lines.port, { name: 'lines' }).pipe(
    foreachBatch((batch) => {
      if (batch.length > 0 && failOnce.armed) {
        failOnce.armed = false;
        throw new Error('crash while the batch was being written');
      }
      delivered.push(...batch);
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
    await lines.connected(1);
    lines.clients[0]?.write('a\nb\n');
    // Lines join batches once the write-ahead log holds them.
    await new Promise((resolve) => setTimeout(resolve, 50));
    await clock.advance(1000);
    await expect(first.awaitTermination()).rejects.toMatchObject({ code: 'USER_FUNCTION_FAILED' });
    expect(delivered).toEqual([]);

    const later = new ManualClock(1000);
    const second = job(later, delivered, failOnce);
    await second.start();
    await lines.connected(2);
    lines.clients[1]?.write('c\n');
    await new Promise((resolve) => setTimeout(resolve, 50));
    await later.advance(2000);
    await second.stop();
    expect(delivered).toEqual(['a', 'b', 'c']);
  });
});
