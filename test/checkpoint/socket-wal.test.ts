import { Level } from 'level';
import { describe, expect, it } from 'vitest';
import { foreachBatch, ManualClock, SocketSource, StreamingContext, type BadRecord } from 'sluice';
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

  it('numbers lines on after a restart whose write-ahead log every commit emptied (regression: it began again at 0, and lost them)', async () => {
    const delivered: string[] = [];
    const noFailure = { armed: false };
    const clock = new ManualClock();
    const { ctx: first, source } = job(clock, delivered, noFailure);
    await first.start();
    await lines.connected(1);
    lines.clients[0]?.write('a\nb\n');
    await until(() => source.received === 2, 'lines a and b in the write-ahead log');
    await clock.advance(1000);
    await first.stop();

    const later = new ManualClock(1000);
    const { ctx: second, source: restarted } = job(later, delivered, noFailure);
    await second.start();
    expect(restarted.received).toBe(2);
    await lines.connected(2);
    lines.clients[1]?.write('c\n');
    await until(() => restarted.received === 3, 'line c in the write-ahead log');
    await later.advance(1000);
    await second.stop();
    expect(delivered).toEqual(['a', 'b', 'c']);
  });
});

describe('socket source with the receiver write-ahead log and maxLineLength', () => {
  it('logs a too-long line as its placeholder, so a restart replays it as the same bad record', async () => {
    const run = (clock: ManualClock, failOnce: { armed: boolean }) => {
      const ctx = new StreamingContext({ batchInterval: 1000, clock, checkpoint: levelCheckpoint(dir()), defaultParallelism: 1 });
      const source = new SocketSource('127.0.0.1', lines.port, { maxLineLength: 4 });
      const input = ctx.source(source, { name: 'lines', badRecords: 'deadLetter' });
      const out: { records: string[]; bad: BadRecord[] } = { records: [], bad: [] };
      input.deadLetters.pipe(foreachBatch((bad) => void out.bad.push(...bad)));
      input.pipe(
        foreachBatch((batch) => {
          if (failOnce.armed) {
            failOnce.armed = false;
            throw new Error('crash while the batch was being written');
          }
          out.records.push(...batch);
        }),
      );
      return { ctx, source, out };
    };
    const failOnce = { armed: true };
    const clock = new ManualClock();
    const first = run(clock, failOnce);
    await first.ctx.start();
    await lines.connected(1);
    lines.clients[0]?.write(`ok\n${'x'.repeat(5000)}\nend\n`);
    await until(() => first.source.received === 3, 'three lines in the write-ahead log');
    await clock.advance(1000);
    await expect(first.ctx.awaitTermination()).rejects.toMatchObject({ code: 'USER_FUNCTION_FAILED' });
    expect(first.out.bad).toHaveLength(1);

    const later = new ManualClock(1000);
    const second = run(later, failOnce);
    await second.ctx.start();
    await later.advance(2000);
    await second.ctx.stop();
    expect(second.out.records).toEqual(['ok', 'end']);
    expect(second.out.bad).toEqual([{ ...first.out.bad[0], raw: 'x'.repeat(1024) }]);
    expect(second.out.bad[0]?.reason).toContain('the line is 5000 bytes long, more than maxLineLength (4 bytes)');
  });
});

describe('socket source replaying from a damaged write-ahead log', () => {
  it('fails the replayed batch with CHECKPOINT_CORRUPT when the log lost lines the batch needs', async () => {
    const failOnce = { armed: true };
    const clock = new ManualClock();
    const failing = job(clock, [], failOnce);
    await failing.ctx.start();
    await lines.connected(1);
    lines.clients[0]?.write('a\nb\n');
    await until(() => failing.source.received === 2, 'lines a and b in the write-ahead log');
    await clock.advance(1000);
    await expect(failing.ctx.awaitTermination()).rejects.toMatchObject({ code: 'USER_FUNCTION_FAILED' });
    // Line 0 of the log goes missing, as damage would lose it.
    const db = new Level<string, string>(dir(), { keyEncoding: 'utf8', valueEncoding: 'utf8' });
    const wal = db.sublevel(['wal', 'lines'], { keyEncoding: 'utf8', valueEncoding: 'utf8' });
    const [oldest] = await wal.keys({ limit: 1 }).all();
    await wal.del(oldest as string);
    await db.close();

    const second = job(new ManualClock(1000), [], failOnce).ctx;
    await second.start();
    await expect(second.awaitTermination()).rejects.toMatchObject({
      code: 'CHECKPOINT_CORRUPT',
      batchId: 0,
      message: expect.stringMatching(/damaged: the write-ahead log of source lines holds 1 of the lines 0 to 1/) as unknown,
    });
  });
});

describe('socket source on a checkpoint a start refuses', () => {
  it('does not connect (so writes nothing to the log) before the checkpoint is accepted', async () => {
    const delivered: string[] = [];
    const clock = new ManualClock();
    const { ctx: first, source } = job(clock, delivered, { armed: false });
    await first.start();
    await lines.connected(1);
    lines.clients[0]?.write('a\n');
    await until(() => source.received === 1, 'line a in the write-ahead log');
    await clock.advance(1000);
    await first.stop();
    expect(delivered).toEqual(['a']);

    // Another batch interval: refused as incompatible, before the source could connect.
    const refused = new StreamingContext({ batchInterval: 500, clock: new ManualClock(1000), checkpoint: levelCheckpoint(dir()) });
    refused.source(new SocketSource('127.0.0.1', lines.port), { name: 'lines' }).pipe(foreachBatch(() => undefined));
    await expect(refused.start()).rejects.toMatchObject({ code: 'CHECKPOINT_INCOMPATIBLE' });
    // No second connection: a source that connected could have written what it received to the log.
    expect(lines.clients).toHaveLength(1);
  });
});
