import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { foreachBatch, ManualClock, mapToPair, StreamingContext, type BatchInfo, type StreamingEvent } from 'sluice';
import { getOrCreate, inspectCheckpoint } from 'sluice/checkpoint';
import { updateStateByKey } from 'sluice/state';
import { window } from 'sluice/windows';
import { useTempDir } from '../../support/temp-dir.js';

const dir = useTempDir('sluice-nodata-');

/** A context on a ManualClock at 0 with `noDataBatches: false`, its queue, and what it saw. */
function idleContext(noDataBatches = false) {
  const clock = new ManualClock(0);
  const ctx = new StreamingContext({ batchInterval: 1000, clock, noDataBatches });
  const queue = ctx.queueStream<number>([], { oneAtATime: false });
  const batches: [number[], BatchInfo][] = [];
  const events: string[] = [];
  ctx.addListener((e: StreamingEvent) => {
    if (e.type === 'batchStarted' || e.type === 'batchCompleted') events.push(e.type);
  });
  return { clock, ctx, queue, batches, events };
}

describe('noDataBatches: false', () => {
  it('runs a batch only in an interval with input: no output, no event and no batch id for an idle one', async () => {
    const { clock, ctx, queue, batches, events } = idleContext();
    queue.pipe(foreachBatch((records, info) => void batches.push([[...records], info])));
    await ctx.start();
    const source = queue.source as unknown as { push(records: readonly number[]): void };
    source.push([1]);
    await clock.advance(1000); // batch 0 at 1000
    await clock.advance(2000); // 2000, 3000: idle
    source.push([2, 3]);
    await clock.advance(1000); // batch 1 at 4000
    await clock.advance(1000); // 5000: idle
    await ctx.stop();
    expect(batches).toEqual([
      [[1], { batchId: 0, batchTime: 1000 }],
      [[2, 3], { batchId: 1, batchTime: 4000 }],
    ]);
    expect(events).toEqual(['batchStarted', 'batchCompleted', 'batchStarted', 'batchCompleted']);
  });

  it('is on by default: every interval runs a batch', async () => {
    const { clock, ctx, queue, batches } = idleContext(true);
    queue.pipe(foreachBatch((records, info) => void batches.push([[...records], info])));
    await ctx.start();
    await clock.advance(2000);
    await ctx.stop();
    expect(batches.map(([, info]) => info)).toEqual([{ batchId: 0, batchTime: 1000 }, { batchId: 1, batchTime: 2000 }]);
  });

  it('keeps batch-time windows on batch times: a window covers the batches in (t - length, t], slides at multiples of the slide', async () => {
    const { clock, ctx, queue } = idleContext();
    const windows: [number, number[]][] = [];
    queue.pipe(window(3000, 1000), foreachBatch((records, info) => void windows.push([info.batchTime, [...records].sort()])));
    await ctx.start();
    const source = queue.source as unknown as { push(records: readonly number[]): void };
    source.push([1]);
    await clock.advance(1000); // 1000: [1]
    await clock.advance(1000); // 2000: idle
    source.push([3]);
    await clock.advance(1000); // 3000: (0, 3000] = [1, 3]
    await clock.advance(2000); // 4000, 5000: idle
    source.push([6]);
    await clock.advance(1000); // 6000: (3000, 6000] = [6]
    await ctx.stop();
    expect(windows).toEqual([[1000, [1]], [3000, [1, 3]], [6000, [6]]]);
  });

  it('rejects a value that is not a boolean', () => {
    expect(() => new StreamingContext({ batchInterval: 1000, noDataBatches: 'no' as unknown as boolean })).toThrow(/noDataBatches must be true or false/);
  });

  it('a checkpointed job restarts after the recorded batch time, with the next batch id', async () => {
    const input = join(dir(), 'in');
    const checkpoint = join(dir(), 'ckpt');
    await mkdir(input);
    const seen: BatchInfo[] = [];
    const totals: [string, number][][] = [];
    const open = (clock: ManualClock) =>
      getOrCreate(checkpoint, (cp) => {
        const ctx = new StreamingContext({ batchInterval: 1000, clock, checkpoint: cp, noDataBatches: false });
        ctx
          .textFileStream(input)
          .pipe(
            mapToPair((line: string) => [line, 1]),
            updateStateByKey((ones: number[], n: number | undefined) => (n ?? 0) + ones.length, { name: 'totals' }),
            foreachBatch((records, info) => {
              seen.push(info);
              totals.push([...records] as [string, number][]);
            }),
          );
        return ctx;
      });
    // A file is taken at the second listing that sees it unchanged.
    await writeFile(join(input, 'a.txt'), 'x\n');
    const first = new ManualClock(0);
    const ctx1 = await open(first);
    await ctx1.start();
    await first.advance(3000); // 1000 lists a.txt, 2000 takes it: batch 0; 3000 idle
    await writeFile(join(input, 'b.txt'), 'x\ny\n');
    await first.advance(3000); // 4000 lists b.txt, 5000 takes it: batch 1; 6000 idle
    await ctx1.stop();
    expect(seen).toEqual([{ batchId: 0, batchTime: 2000 }, { batchId: 1, batchTime: 5000 }]);
    expect((await inspectCheckpoint(checkpoint)).lastCommitted).toEqual({ batchId: 1, batchTime: 5000 });

    // The restart goes on from the interval after the last batch recorded (5000): 6000 lists
    // c.txt, 7000 takes it (run at once: the clock is past it), 8000 and 9000 are idle.
    await writeFile(join(input, 'c.txt'), 'y\n');
    const second = new ManualClock(9000);
    const ctx2 = await open(second);
    await ctx2.start();
    await second.settle();
    await ctx2.stop();
    expect(seen.slice(2)).toEqual([{ batchId: 2, batchTime: 7000 }]);
    expect(totals.at(-1)?.sort()).toEqual([['x', 2], ['y', 2]]);
  });
});
