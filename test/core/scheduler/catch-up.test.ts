import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { foreachBatch, ManualClock, StreamingContext, type BatchProgress, type CatchUp } from 'sluice';
import { levelCheckpoint } from 'sluice/checkpoint';
import { VirtualClock } from '../../support/virtual-clock.js';

/** Batch times of a job whose batch at 200 ms runs 550 ms long, until the clock reaches 1000. */
async function afterAStall(catchUp: CatchUp | undefined): Promise<{ times: number[]; delays: number[] }> {
  const clock = new VirtualClock();
  const ctx = new StreamingContext({ batchInterval: 100, clock, ...(catchUp === undefined ? {} : { catchUp }) });
  const progress: BatchProgress[] = [];
  ctx.addListener((e) => {
    if (e.type === 'batchCompleted') progress.push(e.progress);
  });
  ctx.queueStream<number>([]).pipe(
    foreachBatch((_records, { batchTime }) => {
      if (batchTime === 200) clock.spend(550);
    }),
  );
  await ctx.start();
  await clock.runUntil(1000);
  await ctx.stop();
  return { times: progress.map((p) => p.batchTime), delays: progress.map((p) => p.schedulingDelayMs) };
}

describe('catchUp', () => {
  it("'every-batch' (the default) runs every batch time missed during a long batch, back to back", async () => {
    const { times, delays } = await afterAStall(undefined);
    expect(times).toEqual([100, 200, 300, 400, 500, 600, 700, 800, 900, 1000]);
    // The batch at 200 ended at 750: 300 to 700 start at once, late.
    expect(delays.slice(2, 7)).toEqual([450, 350, 250, 150, 50]);
  });

  it("'one-batch' runs one batch at the latest batch time that has come, and skips the others", async () => {
    const { times, delays } = await afterAStall('one-batch');
    expect(times).toEqual([100, 200, 700, 800, 900, 1000]);
    expect(delays[2]).toBe(50);
  });

  it("after a restart ten minutes of missed batches is one batch that reads what came, with 'one-batch'", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-catch-up-'));
    try {
      const run = async (clockStart: number, until: number, catchUp: CatchUp): Promise<BatchProgress[]> => {
        const clock = new ManualClock(clockStart);
        const ctx = new StreamingContext({ batchInterval: 1000, clock, checkpoint: levelCheckpoint(join(dir, catchUp)), catchUp });
        const progress: BatchProgress[] = [];
        ctx.addListener((e) => {
          if (e.type === 'batchCompleted') progress.push(e.progress);
        });
        ctx.rateStream({ rowsPerSecond: 10, name: 'rate', startTime: 0, backfill: true }).pipe(foreachBatch(() => undefined));
        await ctx.start();
        await clock.advanceTo(until);
        await ctx.stop();
        return progress;
      };
      for (const catchUp of ['one-batch', 'every-batch'] as const) {
        const first = await run(0, 5000, catchUp);
        expect(first.map((p) => p.batchTime)).toEqual([1000, 2000, 3000, 4000, 5000]);
        // Down for ten minutes: the clock stands at 605,000 when the job starts again.
        const second = await run(605_000, 605_000, catchUp);
        const records = second.reduce((n, p) => n + p.numInputRecords, 0);
        expect(records).toBe(6000);
        if (catchUp === 'one-batch') {
          expect(second.map((p) => [p.batchId, p.batchTime])).toEqual([[5, 605_000]]);
        } else {
          // Every missed time is a batch; the first, planned ten minutes late, reads all that came.
          expect(second).toHaveLength(600);
          expect(second[0]?.batchTime).toBe(6000);
          expect(second[0]?.numInputRecords).toBe(6000);
        }
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses anything else', () => {
    expect(() => new StreamingContext({ batchInterval: 100, catchUp: 'skip' as CatchUp })).toThrow(/catchUp must be 'every-batch' or 'one-batch'/);
  });
});
