import { describe, expect, it } from 'vitest';
import { foreachBatch, keyBy, ManualClock, StreamingContext, union, type MultipleWatermarkPolicy } from 'sluice';
import { agg, eventTimeWindow, tumbling, withWatermark, type WindowResult } from 'sluice/windows';

/*
 * The context's watermarkPolicy (docs/watermarks-and-late-data.md, "Several watermarks"): an
 * operator that reads several watermarked streams, and the global watermark, follow the slowest
 * active stream by 'min' and the fastest by 'max'.
 */

interface Ev {
  readonly key: string;
  readonly t: number;
}
const ev = (key: string, t: number): Ev => ({ key, t });
type Row = [string, number, number, number];

/** Per batch: the windows emitted, the records dropped as late, the global watermark. */
interface Run {
  readonly results: Row[][];
  readonly dropped: number[];
  readonly watermarks: (number | undefined)[];
}

/**
 * A fast input (event times 50, 60, 70) and a lagging one (5, 15, 8), both with delay 0, in one
 * union counted in tumbling windows of 10 (append mode), for 5 batches.
 */
async function run(watermarkPolicy: MultipleWatermarkPolicy | undefined): Promise<Run> {
  const clock = new ManualClock();
  const ctx = new StreamingContext({ batchInterval: 1000, clock, defaultParallelism: 1, ...(watermarkPolicy === undefined ? {} : { watermarkPolicy }) });
  const out: Run = { results: [], dropped: [], watermarks: [] };
  ctx.addListener((e) => {
    if (e.type !== 'batchCompleted') return;
    out.dropped.push(e.progress.lateRecordsDropped);
    out.watermarks.push(e.progress.watermark);
  });
  const fast = ctx.queueStream([[ev('a', 50)], [ev('a', 60)], [ev('a', 70)]]).pipe(withWatermark((e: Ev) => e.t, 0));
  const slow = ctx.queueStream([[ev('a', 5)], [ev('a', 15)], [ev('a', 8)]]).pipe(withWatermark((e: Ev) => e.t, 0));
  fast
    .pipe(union(slow), keyBy((e: Ev) => e.key), eventTimeWindow(tumbling(10), agg.count()))
    .pipe(foreachBatch((r: readonly WindowResult<string, number>[]) => void out.results.push(r.map((w) => [w.key, w.window.start, w.window.end, w.value]))));
  await ctx.start();
  await clock.advance(5000);
  await ctx.stop();
  return out;
}

describe('watermarkPolicy', () => {
  it("'min' (the default): the union follows the lagging input; only its record older than the closed [0,10) is late", async () => {
    const expected: Run = {
      // Watermark min(50, 5) = 5, then min(60, 15) = 15: [0,10) closes in batch 2, where a@8 comes too late.
      results: [[], [], [['a', 0, 10, 1]], [], []],
      dropped: [0, 0, 1, 0, 0],
      watermarks: [undefined, 5, 15, 15, 15],
    };
    expect(await run(undefined)).toEqual(expected);
    expect(await run('min')).toEqual(expected);
  });

  it("'max': the union follows the fast input; its windows close at once, and the lagging input's records come late", async () => {
    expect(await run('max')).toEqual({
      // Watermark max(50, 5) = 50 in batch 1 closes [0,10), and a@15 is late; 60 closes [50,60), and a@8 is late; 70 closes [60,70).
      results: [[], [['a', 0, 10, 1]], [['a', 50, 60, 1]], [['a', 60, 70, 1]], []],
      dropped: [0, 1, 1, 0, 0],
      watermarks: [undefined, 50, 60, 70, 70],
    });
  });

  it("'max' leaves an idle input out, as 'min' does", async () => {
    const clock = new ManualClock();
    const ctx = new StreamingContext({ batchInterval: 1000, clock, defaultParallelism: 1, watermarkPolicy: 'max' });
    const watermarks: (number | undefined)[] = [];
    ctx.addListener((e) => {
      if (e.type === 'batchCompleted') watermarks.push(e.progress.watermark);
    });
    // The fast input has one record, in batch 0, and is idle from 500 ms after it: from batch 1 on.
    const fast = ctx.queueStream([[ev('a', 90)]]).pipe(withWatermark((e: Ev) => e.t, 0, { idleTimeout: 500 }));
    const slow = ctx.queueStream([[ev('a', 5)], [ev('a', 15)], [ev('a', 25)], [ev('a', 35)]]).pipe(withWatermark((e: Ev) => e.t, 0));
    const results: Row[][] = [];
    fast
      .pipe(union(slow), keyBy((e: Ev) => e.key), eventTimeWindow(tumbling(10), agg.count()))
      .pipe(foreachBatch((r: readonly WindowResult<string, number>[]) => void results.push(r.map((w) => [w.key, w.window.start, w.window.end, w.value]))));
    await ctx.start();
    await clock.advance(5000);
    await ctx.stop();
    // The idle input's 90 counts for nothing: the watermark is the slow input's, and its windows
    // close one by one rather than all at once ([90,100) stays open).
    expect(watermarks).toEqual([undefined, 5, 15, 25, 35]);
    expect(results).toEqual([[], [], [['a', 0, 10, 1]], [['a', 10, 20, 1]], [['a', 20, 30, 1]]]);
  });

  it('is checked when the context is built', () => {
    expect(() => new StreamingContext({ batchInterval: 1000, watermarkPolicy: 'median' as MultipleWatermarkPolicy })).toThrow(
      new TypeError("StreamingContext: watermarkPolicy must be 'min' (follow the slowest watermarked stream) or 'max' (follow the fastest), got \"median\"."),
    );
  });
});
