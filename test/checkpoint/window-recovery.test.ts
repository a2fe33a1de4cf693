import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { foreachBatch, ManualClock, mapToPair, StreamingContext, type DStream, type Pair } from 'sluice';
import { levelCheckpoint } from 'sluice/checkpoint';
import { countByWindow, reduceByKeyAndWindow, window } from 'sluice/windows';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-wckpt-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

type Outputs = Map<string, unknown[]>;

/** Three windowed outputs over a deterministic rate source: plain, incremental keyed, incremental count. */
function build(checkpoint: string, clock: ManualClock, out: Outputs, failAt: number | undefined): StreamingContext {
  const ctx = new StreamingContext({ batchInterval: 1000, clock, checkpoint: levelCheckpoint(checkpoint), defaultParallelism: 1 });
  const words: DStream<string> = ctx.rateStream({ rowsPerSecond: 1000, startTime: 0, maxRecordsPerBatch: 3, totalRows: 60, generate: (i) => `w${i % 4}` });
  const record = (name: string) =>
    foreachBatch<unknown>((records, { batchId }) => {
      if (batchId === failAt && name === 'counts') throw new Error('crash');
      out.set(`${name}@${batchId}`, [...records].map((r) => JSON.stringify(r)).sort());
    });
  words.pipe(window(3000, 2000), record('window'));
  words.pipe(
    mapToPair((w: string) => [w, 1]),
    reduceByKeyAndWindow((a: number, b: number) => a + b, (a: number, b: number) => a - b, 4000, 2000, { filter: (p: Pair<string, number>) => p[1] > 0 }),
    record('counts'),
  );
  words.pipe(countByWindow(3000, 1000), record('total'));
  return ctx;
}

async function run(intervals: number, out: Outputs, options: { from?: number; failAt?: number } = {}): Promise<StreamingContext> {
  const clock = new ManualClock(options.from ?? 0);
  const ctx = build(dir, clock, out, options.failAt);
  await ctx.start();
  for (let i = 0; i < intervals && ctx.state === 'active'; i++) await clock.advance(1000);
  return ctx;
}

describe('batch-time windows on a checkpoint', () => {
  it('come back after a crash with their held batches and incremental state: outputs equal a run that never crashed', async () => {
    const straight: Outputs = new Map();
    const other = dir;
    dir = join(other, 'straight');
    await (await run(12, straight)).stop();
    dir = join(other, 'crashed');
    const crashed: Outputs = new Map();
    const first = await run(12, crashed, { failAt: 7 });
    await expect(first.awaitTermination()).rejects.toThrow(/crash/);
    // Batch 7 (at 8000) is replayed on start, then batches 8 to 11.
    await (await run(4, crashed, { from: 8000 })).stop();
    expect(new Map([...crashed].sort())).toEqual(new Map([...straight].sort()));
    dir = other;
  });
});
