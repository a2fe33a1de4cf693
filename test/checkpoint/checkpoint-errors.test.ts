import { join } from 'node:path';
import { Level } from 'level';
import { describe, expect, it } from 'vitest';
import { ManualClock, mapToPair, StreamingContext, type Pair } from 'sluice';
import { levelCheckpoint, tableReader, tableSink } from 'sluice/checkpoint';
import { runFor, useTempDir } from './checkpoint-harness.js';

const dir = useTempDir();
const checkpoint = (): string => join(dir(), 'ckpt');

/** A context that counts words into the keyed table 'counts' of its checkpoint. */
function countsJob(clock: ManualClock): StreamingContext {
  const ctx = new StreamingContext({ batchInterval: 1000, clock, checkpoint: levelCheckpoint(checkpoint()) });
  ctx.rateStream({ name: 'rate', rowsPerSecond: 1000, startTime: 0, maxRecordsPerBatch: 2, totalRows: 4, generate: (i) => (i % 2 === 0 ? 'a' : 'b') }).pipe(
    mapToPair((w: string) => [w, 1]),
    tableSink('counts', { key: ([w]: Pair<string, number>) => w }),
  );
  return ctx;
}

describe('checkpoint failures', () => {
  it('CHECKPOINT_UNAVAILABLE, not CHECKPOINT_CORRUPT, when another context holds the checkpoint', async () => {
    const clock = new ManualClock();
    const running = countsJob(clock);
    await runFor(running, clock, 1);
    try {
      const second = countsJob(new ManualClock());
      await expect(second.start()).rejects.toMatchObject({ code: 'CHECKPOINT_UNAVAILABLE', message: expect.stringMatching(/is in use by another context of this process/) as unknown });
      await expect(second.awaitTermination()).rejects.toMatchObject({ code: 'CHECKPOINT_UNAVAILABLE' });
    } finally {
      await running.stop();
    }
  });

  it('tableReader: a TypeError before start(), CONTEXT_STOPPED after stop()', async () => {
    const clock = new ManualClock();
    const ctx = countsJob(clock);
    const table = tableReader<Pair<string, number>>(ctx, 'counts');
    await expect(table.get('a')).rejects.toThrow(TypeError);
    await runFor(ctx, clock, 1);
    expect(await table.get('a')).toEqual(['a', 1]);
    await ctx.stop();
    await expect(table.get('a')).rejects.toMatchObject({ code: 'CONTEXT_STOPPED', message: expect.stringMatching(/the context has stopped/) as unknown });
    const reading = async () => {
      for await (const _ of table.entries()) return;
    };
    await expect(reading()).rejects.toMatchObject({ code: 'CONTEXT_STOPPED' });
  });

  it('tableReader: CHECKPOINT_CORRUPT for a row whose key or value cannot be decoded', async () => {
    const clock = new ManualClock();
    const first = countsJob(clock);
    await runFor(first, clock, 1);
    await first.stop();
    const db = new Level<string, Uint8Array>(checkpoint(), { keyEncoding: 'utf8', valueEncoding: 'view' });
    await db.open();
    const rows = db.sublevel<string, Uint8Array>('sinks', { keyEncoding: 'utf8', valueEncoding: 'view' }).sublevel<string, Uint8Array>('counts', { keyEncoding: 'utf8', valueEncoding: 'view' });
    const [key, value] = (await rows.iterator({ limit: 1 }).all())[0] as [string, Uint8Array];
    // Sorts first: an array key (0x01) whose part has no known tag.
    await rows.put('\u0001\u0099', value);
    await rows.put(key, Uint8Array.of(2, 0xc1));
    await db.close();
    const again = new ManualClock();
    const ctx = countsJob(again);
    await runFor(ctx, again, 0);
    try {
      const table = tableReader<Pair<string, number>>(ctx, 'counts');
      const reading = async () => {
        for await (const _ of table.entries()) continue;
      };
      await expect(reading()).rejects.toMatchObject({ code: 'CHECKPOINT_CORRUPT', message: expect.stringMatching(/the key of row "\\u0001.*" of table 'counts' cannot be decoded/) as unknown });
      await expect(table.get('a')).rejects.toMatchObject({ code: 'CHECKPOINT_CORRUPT', message: expect.stringMatching(/row ".*" of table 'counts' cannot be decoded/) as unknown });
    } finally {
      await ctx.stop();
    }
  });
});
