import { join } from 'node:path';
import { Level } from 'level';
import { describe, expect, it } from 'vitest';
import { foreachBatch, ManualClock, mapToPair, StreamingContext } from 'sluice';
import { inspectCheckpoint, levelCheckpoint } from 'sluice/checkpoint';
import { updateStateByKey } from 'sluice/state';
import { sublevels } from '../../checkpoint/checkpoint-layout.js';
import { runFor, useTempDir } from './checkpoint-harness.js';

const dir = useTempDir();
const checkpoint = (): string => join(dir(), 'ckpt');

/** Runs `batches` batches of a running count over 5 keys, from batch `from` on (a restart after the first run). */
async function run(from: number, batches: number, interval: number): Promise<void> {
  const clock = new ManualClock(from * 1000);
  const ctx = new StreamingContext({ batchInterval: 1000, clock, checkpoint: levelCheckpoint(checkpoint(), { interval }) });
  ctx
    .rateStream({ rowsPerSecond: 1000, startTime: 0, maxRecordsPerBatch: 4, generate: (i) => `k${i % 5}` })
    .pipe(
      mapToPair((k: string) => [k, 1]),
      updateStateByKey((ones: number[], n: number | undefined) => (n ?? 0) + ones.length, { name: 'counts' }),
      foreachBatch(() => undefined),
    );
  await runFor(ctx, clock, batches);
  await ctx.stop();
}

/** The number of entries in the offset log, the commit log and the whole database. */
async function census(): Promise<{ offsets: number; commits: number; all: number }> {
  const db = new Level<string, Uint8Array>(checkpoint(), { keyEncoding: 'utf8', valueEncoding: 'view' });
  await db.open();
  try {
    const { offsets, commits } = sublevels(db);
    return { offsets: (await offsets.keys().all()).length, commits: (await commits.keys().all()).length, all: (await db.keys().all()).length };
  } finally {
    await db.close();
  }
}

describe('checkpoint retention', () => {
  it.each([1, 3])('keeps at most checkpointInterval + 1 entries of each log, and no other entry grows, over 200 batches and a restart (checkpointInterval %i)', async (interval) => {
    await run(0, 100, interval);
    const atHundred = await census();
    // A restart, then 100 more batches: what recovery finds must be purged too.
    await run(100, 100, interval);
    expect((await inspectCheckpoint(checkpoint())).lastCommitted?.batchId).toBe(199);
    const atTwoHundred = await census();
    for (const counted of [atHundred, atTwoHundred]) {
      expect(counted.offsets).toBeGreaterThan(0);
      expect(counted.offsets).toBeLessThanOrEqual(interval + 1);
      expect(counted.commits).toBeLessThanOrEqual(interval + 1);
    }
    // Besides the logs: the meta entry and 5 keys of state with their meta entry, whatever the batch count.
    const rest = ({ offsets, commits, all }: typeof atHundred): number => all - offsets - commits;
    expect(rest(atTwoHundred)).toBe(rest(atHundred));
  });
});
