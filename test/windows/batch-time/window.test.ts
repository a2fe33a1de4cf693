import { describe, expect, it } from 'vitest';
import { foreachBatch, glom, ManualClock, map, StreamingContext, transform, union, type StreamingEvent } from 'sluice';
import { window } from 'sluice/windows';
import { runBatches } from 'sluice/testing';
import { rejectionOf } from '../../core/run-manually.js';
import { EverySecondBatch } from '../../core/operators/every-second-batch.js';

const sixBatches = [[0], [1], [2], [3], [4], [5]];

describe('window', () => {
  it('holds the batches of the last length, sliding every batch by default (first window: the batches that exist)', async () => {
    expect(await runBatches(sixBatches, (s) => s.pipe(window(2000)))).toEqual([[0], [0, 1], [1, 2], [2, 3], [3, 4], [4, 5]]);
  });

  it('tumbles when the slide equals the length, producing a batch only at slide times', async () => {
    expect(await runBatches(sixBatches, (s) => s.pipe(window(2000, 2000)))).toEqual([
      [0, 1],
      [2, 3],
      [4, 5],
    ]);
  });

  it('with a length larger than the slide, overlaps and drains after the input ends', async () => {
    const out = await runBatches(sixBatches, (s) => s.pipe(window(4000, 2000)), { numBatches: 8 });
    expect(out).toEqual([
      [0, 1],
      [0, 1, 2, 3],
      [2, 3, 4, 5],
      [4, 5],
    ]);
  });

  it('with a slide larger than the length, skips the batches between windows', async () => {
    expect(await runBatches(sixBatches, (s) => s.pipe(window(2000, 3000)))).toEqual([
      [1, 2],
      [4, 5],
    ]);
  });

  it('emits at batch times that are multiples of the slide after the zero time', async () => {
    const seen: { batchId: number; records: readonly number[] }[] = [];
    const clock = new ManualClock(5_000);
    const ctx = new StreamingContext({ batchInterval: 1000, clock, defaultParallelism: 1 });
    ctx
      .queueStream(sixBatches.map((b) => [...b]))
      .pipe(window(3000, 3000))
      .pipe(foreachBatch<number>((records, info) => void seen.push({ batchId: info.batchId, records })));
    await ctx.start();
    for (let i = 0; i < 6; i++) await clock.advance(1000);
    await ctx.stop();
    expect(seen).toEqual([
      { batchId: 2, records: [0, 1, 2] },
      { batchId: 5, records: [3, 4, 5] },
    ]);
  });

  it('gives empty windows once the input has no more records, and keeps every record of a batch in order', async () => {
    const out = await runBatches([[1, 2, 3], [4]], (s) => s.pipe(window(2000)), { numBatches: 4 });
    expect(out).toEqual([[1, 2, 3], [1, 2, 3, 4], [4], []]);
  });

  it('accepts durations as strings, ISO-8601 and luxon objects', async () => {
    for (const [length, slide] of [['2s', '2s'], ['PT2S', 'PT2S'], [{ seconds: 2 }, { seconds: 2 }]] as const) {
      expect(await runBatches(sixBatches, (s) => s.pipe(window(length, slide)))).toEqual([
        [0, 1],
        [2, 3],
        [4, 5],
      ]);
    }
  });

  it('defaults the slide to the batch interval', async () => {
    expect(await runBatches([[1], [2], [3]], (s) => s.pipe(window('1s')), { batchInterval: 500 })).toEqual([[1], [1, 2], [2, 3]]);
  });

  it('windows a windowed stream whose slide divides the durations, defaulting to its slide', async () => {
    const out = await runBatches(sixBatches, (s) => s.pipe(window(2000, 2000), window(4000)));
    expect(out).toEqual([
      [0, 1],
      [0, 1, 2, 3],
      [2, 3, 4, 5],
    ]);
  });

  it('keeps the partitions of the batches it holds, oldest batch first', async () => {
    const out = await runBatches([[1, 2, 3], [4, 5]], (s) => s.pipe(window(2000), glom()), { numPartitions: 2 });
    expect(out).toEqual([
      [[1, 2], [3]],
      [[1, 2], [3], [4], [5]],
    ]);
  });

  it('makes downstream operators produce only at slide times', async () => {
    const out = await runBatches(sixBatches, (s) => s.pipe(window(2000, 2000), map((x: number) => x * 10), transform((b) => [b.size])));
    expect(out).toEqual([[2], [2], [2]]);
  });

  it('holds no more than the batches a window needs (its progress reports the records it holds)', async () => {
    const rows: number[] = [];
    const listen = (ctx: StreamingContext): void => {
      ctx.addListener((event: StreamingEvent) => {
        if (event.type !== 'batchCompleted') return;
        for (const op of event.progress.operators) if (op.operator.startsWith('window#')) rows.push(op.stateRows ?? -1);
      });
    };
    await runBatches([[1, 1], [1], [1, 1, 1], [], [1]], (s) => s.pipe(window(2000)), { configure: listen });
    expect(rows).toEqual([2, 3, 4, 3, 1]);
  });

  it('throws a RangeError quoting the values when the length or slide is not a multiple of the batch interval', () => {
    const ctx = new StreamingContext({ batchInterval: 1000, clock: new ManualClock() });
    const input = ctx.queueStream<number>();
    expect(() => input.pipe(window(1500))).toThrow(RangeError);
    expect(() => input.pipe(window(1500))).toThrow(/window length 1500 ms must be a multiple of the batch interval \(1000 ms\)/);
    expect(() => input.pipe(window('2.5s', 1000))).toThrow(/'2\.5s' \(2500 ms\)/);
    expect(() => input.pipe(window(2000, 500))).toThrow(/slide 500 ms must be a multiple of the batch interval \(1000 ms\)/);
  });

  it('throws a RangeError naming the input’s slide when windowing a windowed stream off its multiples', () => {
    const ctx = new StreamingContext({ batchInterval: 1000, clock: new ManualClock() });
    const windowed = ctx.queueStream<number>().pipe(window(2000, 2000));
    expect(() => windowed.pipe(window(3000))).toThrow(/multiple of the slide of its input window#\d+ \(2000 ms\)/);
    expect(() => windowed.pipe(window(4000, 1000))).toThrow(RangeError);
  });

  it('throws a RangeError at once for a malformed, zero or negative duration', () => {
    for (const bad of [0, -1000, 'soon', '0s', Number.NaN]) expect(() => window(bad)).toThrow(RangeError);
    expect(() => window(1000, 0)).toThrow(RangeError);
  });

  it('fails the batch naming the window when a consumer skipped it, instead of giving a wrong window', async () => {
    const error = await rejectionOf(runBatches(sixBatches, (s) => new EverySecondBatch(s.pipe(window(2000)))));
    expect(error).toMatchObject({ code: 'BATCH_FAILED', operator: expect.stringMatching(/^window#\d+$/) as unknown, batchId: 3 });
    expect((error as Error).message).toMatch(/not computed in batch 2/);
  });

  // Regression: DerivedDStream once stopped at its first input with no batch, so a second
  // windowed input missed the batches between slides.
  it('combines two windowed streams with the same slide (union)', async () => {
    const out = await runBatches(sixBatches, (s) => s.pipe(window(2000, 2000), union(s.pipe(window(4000, 2000)))));
    expect(out).toEqual([
      [0, 1, 0, 1],
      [2, 3, 0, 1, 2, 3],
      [4, 5, 2, 3, 4, 5],
    ]);
  });
});

