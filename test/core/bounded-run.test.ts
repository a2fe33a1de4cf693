import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { foreachBatch, keyBy, ManualClock, SluiceError, StreamingContext, type BatchInfo, type BatchProgress, type DStream } from 'sluice';
import type { Offset, Source } from 'sluice/extend';
import { getOrCreate } from 'sluice/checkpoint';
import { agg, eventTimeWindow, tumbling, withWatermark, type WindowResult } from 'sluice/windows';
import { useTempDir } from '../support/temp-dir.js';

interface Ev {
  readonly key: string;
  readonly t: number;
}
const ev = (key: string, t: number): Ev => ({ key, t });
type Row = [key: string, start: number, end: number, count: unknown];
const row = (r: WindowResult<string, unknown>): Row => [r.key, r.window.start, r.window.end, r.value];

/** A context on a ManualClock at 0 that the test never advances: a bounded run waits on no timer. */
function context(options: { readonly noDataBatches?: boolean } = {}) {
  const clock = new ManualClock(0);
  const ctx = new StreamingContext({ batchInterval: 1000, clock, defaultParallelism: 1, ...options });
  const progress: BatchProgress[] = [];
  ctx.addListener((e) => {
    if (e.type === 'batchCompleted') progress.push(e.progress);
  });
  return { clock, ctx, progress };
}

/** Per-key tumbling counts of 10 ms windows, watermark delay 0, collected per batch. */
function windowCounts(input: DStream<Ev>): Row[][] {
  const out: Row[][] = [];
  input.pipe(
    withWatermark((e: Ev) => e.t, 0),
    keyBy((e: Ev) => e.key),
    eventTimeWindow(tumbling(10), agg.count()),
    foreachBatch((records) => void out.push(records.map(row))),
  );
  return out;
}

const dir = useTempDir('sluice-bounded-');

describe('runToCompletion', () => {
  it('cuts batches by record count, advances batch times by the interval with processing time = batch time, and stops', async () => {
    const { ctx, progress } = context();
    const seen: [number[], BatchInfo][] = [];
    ctx.fromIterable([1, 2, 3, 4, 5, 6, 7]).pipe(foreachBatch((records, info) => void seen.push([[...records], info])));
    const summary = await ctx.runToCompletion({ maxRecordsPerBatch: 3 });
    expect(seen).toEqual([
      [[1, 2, 3], { batchId: 0, batchTime: 1000 }],
      [[4, 5, 6], { batchId: 1, batchTime: 2000 }],
      [[7], { batchId: 2, batchTime: 3000 }],
    ]);
    expect(summary).toEqual({ batches: 3, records: 7, lastBatchId: 2, completed: true });
    expect(ctx.state).toBe('stopped');
    await expect(ctx.awaitTermination()).resolves.toBeUndefined();
    expect(progress.map((p) => p.batchTime)).toEqual([1000, 2000, 3000]);
  });

  it("keeps a source's own maxRecordsPerBatch, and defaults to 10 000 records a batch", async () => {
    const { ctx } = context();
    const sizes: number[] = [];
    ctx.fromIterable(Array.from({ length: 25_000 }, (_, i) => i)).pipe(foreachBatch((r) => void sizes.push(r.length)));
    ctx.queueStream([[1, 2, 3, 4, 5]], { maxRecordsPerBatch: 2 }).pipe(foreachBatch(() => undefined));
    await ctx.runToCompletion();
    expect(sizes).toEqual([10_000, 10_000, 5000]);
  });

  it('ends with a final batch whose watermark is past every event time: every event-time window fires', async () => {
    const { ctx, progress } = context();
    const out = windowCounts(ctx.fromIterable([ev('a', 1), ev('a', 5), ev('b', 12), ev('a', 15), ev('b', 31)]));
    const summary = await ctx.runToCompletion({ maxRecordsPerBatch: 2 });
    // Batch 3 takes no record: its watermark (the largest time a Date holds) closes what is left.
    expect(out).toEqual([[], [], [['a', 0, 10, 2]], [['a', 10, 20, 1], ['b', 10, 20, 1], ['b', 30, 40, 1]]]);
    expect(progress.map((p) => [p.numInputRecords, p.watermark])).toEqual([[2, undefined], [2, 5], [1, 15], [0, 8_640_000_000_000_000]]);
    expect(summary).toMatchObject({ batches: 4, records: 5 });
  });

  it('with flush: false leaves the windows the data has not closed open', async () => {
    const { ctx } = context();
    const out = windowCounts(ctx.fromIterable([ev('a', 1), ev('a', 5), ev('b', 12), ev('a', 15), ev('b', 31)]));
    const summary = await ctx.runToCompletion({ maxRecordsPerBatch: 2, flush: false });
    expect(out).toEqual([[], [], [['a', 0, 10, 2]]]);
    expect(summary).toMatchObject({ batches: 3, records: 5 });
  });

  it('runs no final batch in a job without a watermark', async () => {
    const { ctx } = context();
    const batches: number[][] = [];
    ctx.fromIterable([1, 2, 3]).pipe(foreachBatch((r) => void batches.push([...r])));
    await ctx.runToCompletion();
    expect(batches).toEqual([[1, 2, 3]]);
  });

  it('reads an async iterable to its end, waiting for records rather than ending at the first empty read', async () => {
    const { ctx } = context();
    async function* slow(): AsyncGenerator<number> {
      for (let i = 0; i < 5; i++) {
        await new Promise((resolve) => setTimeout(resolve, 2));
        yield i;
      }
    }
    const seen: number[] = [];
    ctx.fromIterable(slow()).pipe(foreachBatch((r) => void seen.push(...r)));
    const summary = await ctx.runToCompletion();
    expect(seen).toEqual([0, 1, 2, 3, 4]);
    expect(summary.completed).toBe(true);
  });

  it('reads the files present at the start at once, and not a file added during the run', async () => {
    await writeFile(join(dir(), 'b.txt'), 'b1\nb2\n');
    await writeFile(join(dir(), 'a.txt'), 'a1\n');
    const { ctx } = context();
    const batches: string[][] = [];
    ctx.textFileStream(dir()).pipe(
      foreachBatch(async (r) => {
        batches.push([...r]);
        await writeFile(join(dir(), 'c.txt'), 'c1\n');
      }),
    );
    const summary = await ctx.runToCompletion({ maxRecordsPerBatch: 2 });
    expect(batches).toEqual([['a1', 'b1'], ['b2']]);
    expect(summary.records).toBe(3);
  });

  it('takes a rate source with totalRows whole, timed from its start time, whatever the clock', async () => {
    const { ctx } = context();
    const seen: { value: number; timestamp: number }[] = [];
    ctx.rateStream({ rowsPerSecond: 10, totalRows: 25, startTime: 0 }).pipe(foreachBatch((r) => void seen.push(...r)));
    const summary = await ctx.runToCompletion({ maxRecordsPerBatch: 10 });
    expect(summary).toMatchObject({ batches: 3, records: 25 });
    expect(seen.at(-1)).toEqual({ value: 24, timestamp: 2400 });
  });

  it('refuses a source that cannot end with a TypeError naming it, before any source starts', async () => {
    const { ctx } = context();
    let started = false;
    const endless: Source<number> = {
      kind: 'endless',
      replayable: false,
      start: () => void (started = true),
      initialOffset: () => 0,
      latestOffset: (start: Offset) => start,
      read: () => ({ records: [] }),
    };
    ctx.source(endless, { name: 'ticks' }).pipe(foreachBatch(() => undefined));
    const error = await ctx.runToCompletion().then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toMatch(/source ticks \(endless\) cannot end/);
    expect(started).toBe(false);
    const sockets = context().ctx;
    sockets.socketTextStream('localhost', 9).pipe(foreachBatch(() => undefined));
    await expect(sockets.runToCompletion()).rejects.toThrow(/source socket-0 \(socket\) cannot end/);
  });

  it('refuses a rate source without totalRows with a TypeError naming it, and stops the context', async () => {
    const { ctx } = context();
    ctx.rateStream({ rowsPerSecond: 10, name: 'ticks' }).pipe(foreachBatch(() => undefined));
    await expect(ctx.runToCompletion()).rejects.toThrow(/Source ticks \(rate\) has no totalRows/);
    expect(ctx.state).toBe('stopped');
    await expect(ctx.awaitTermination()).rejects.toBeInstanceOf(SluiceError);
  });

  it('refuses bad options and a second run', async () => {
    const { ctx } = context();
    ctx.fromIterable([1]).pipe(foreachBatch(() => undefined));
    await expect(ctx.runToCompletion({ maxRecordsPerBatch: 0 })).rejects.toThrow(RangeError);
    await expect(ctx.runToCompletion({ flush: 'yes' as unknown as boolean })).rejects.toThrow(/flush must be true or false/);
    await ctx.runToCompletion();
    await expect(ctx.runToCompletion()).rejects.toThrow(/has already stopped/);
  });

  it('ends after the running batch when stop() is called, with completed: false', async () => {
    const { ctx } = context();
    const seen: number[] = [];
    ctx.fromIterable(Array.from({ length: 10 }, (_, i) => i)).pipe(
      foreachBatch((r) => {
        seen.push(...r);
        if (seen.length === 2) void ctx.stop();
      }),
    );
    const summary = await ctx.runToCompletion({ maxRecordsPerBatch: 2 });
    expect(seen).toEqual([0, 1]);
    expect(summary).toEqual({ batches: 1, records: 2, lastBatchId: 0, completed: false });
  });

  it('rejects with the failure of a batch, as awaitTermination does', async () => {
    const { ctx } = context();
    ctx.fromIterable([1, 2, 3]).pipe(
      foreachBatch(() => {
        throw new Error('sink down');
      }),
    );
    const error = await ctx.runToCompletion().then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(SluiceError);
    expect((error as SluiceError).batchId).toBe(0);
    await expect(ctx.awaitTermination()).rejects.toBe(error);
  });
});

describe('stop({ graceful: true, flush: true })', () => {
  it('drains, then runs one final batch whose watermark fires every event-time window', async () => {
    const { clock, ctx, progress } = context();
    const queue = ctx.queueStream<Ev>([[ev('a', 1), ev('b', 12)], [ev('a', 15)]]);
    const out = windowCounts(queue);
    await ctx.start();
    await clock.advance(1000);
    // The queue still holds [a@15]: the drain takes it, then the final batch closes every window.
    await ctx.stop({ graceful: true, flush: true });
    expect(out).toEqual([[], [['a', 0, 10, 1]], [['a', 10, 20, 1], ['b', 10, 20, 1]]]);
    expect(progress.map((p) => [p.batchId, p.batchTime, p.numInputRecords])).toEqual([[0, 1000, 2], [1, 2000, 1], [2, 3000, 0]]);
  });

  it('without flush leaves the open windows open (as before)', async () => {
    const { clock, ctx } = context();
    const out = windowCounts(ctx.queueStream<Ev>([[ev('a', 1), ev('b', 12)], [ev('a', 15)]]));
    await ctx.start();
    await clock.advance(1000);
    await ctx.stop({ graceful: true });
    expect(out).toEqual([[], [['a', 0, 10, 1]]]);
  });
});

describe('a backfill, then live (docs/bounded-runs.md)', () => {
  it('a bounded run with flush: false leaves the windows open for a streaming run on the same checkpoint', async () => {
    const input = join(dir(), 'in');
    const checkpoint = join(dir(), 'ckpt');
    await mkdir(input);
    await writeFile(join(input, 'a.ndjson'), `${JSON.stringify(ev('a', 1))}\n${JSON.stringify(ev('a', 5))}\n`);
    const runs: Row[][][] = [];
    const out = (): Row[][] => runs.flat();
    const open = (clock: ManualClock) =>
      getOrCreate(checkpoint, (cp) => {
        const ctx = new StreamingContext({ batchInterval: 1000, clock, checkpoint: cp, defaultParallelism: 1 });
        runs.push(windowCounts(ctx.textFileStream<Ev>(input, { format: 'ndjson' })));
        return ctx;
      });
    const backfill = await open(new ManualClock(0));
    expect(await backfill.runToCompletion({ flush: false })).toMatchObject({ batches: 1, records: 2, lastBatchId: 0 });
    expect(out()).toEqual([[]]);

    await writeFile(join(input, 'b.ndjson'), `${JSON.stringify(ev('a', 12))}\n`);
    const clock = new ManualClock(1000);
    const live = await open(clock);
    await live.start();
    // 2000 lists b.ndjson, 3000 takes it (watermark 5: nothing closes), 4000 (watermark 12) closes [0, 10).
    await clock.advance(3000);
    await live.stop({ graceful: true, flush: true });
    expect(out()).toEqual([[], [], [], [['a', 0, 10, 2]], [['a', 10, 20, 1]]]);
  });
});
