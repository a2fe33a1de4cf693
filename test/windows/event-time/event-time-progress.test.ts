import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { filter, foreachBatch, ManualClock, StreamingContext, union, type BatchProgress, type EventTimeStats } from 'sluice';
import { withWatermark } from 'sluice/windows';

/*
 * The event-time figures of each batch's progress event (BatchProgress.eventTime, Structured
 * Streaming's `eventTime` of StreamingQueryProgress): per watermarked stream, the count, min, max
 * and mean of the batch's event times, the stream's watermark in force and whether it was idle.
 */

interface Ev {
  readonly t: number;
}
const ev = (t: number): Ev => ({ t });

/** A context with two watermarked inputs ('fast', delay 3, two partitions; an unnamed one idle 1.5 s after its records), run for 3 batches. */
async function run(options: { readonly logger?: pino.Logger } = {}): Promise<BatchProgress[]> {
  const clock = new ManualClock();
  const ctx = new StreamingContext({ batchInterval: 1000, clock, defaultParallelism: 2, ...options });
  const progress: BatchProgress[] = [];
  ctx.addListener((e) => {
    if (e.type === 'batchCompleted') progress.push(e.progress);
  });
  const fast = ctx.queueStream([[ev(50), ev(40), ev(63)], [], [ev(70)]]).pipe(withWatermark((e: Ev) => e.t, 3, { name: 'fast' }));
  const slow = ctx.queueStream([[ev(5)]]).pipe(withWatermark((e: Ev) => e.t, 0, { idleTimeout: 1500 }));
  fast.pipe(union(slow), foreachBatch(() => undefined));
  await ctx.start();
  await clock.advance(3000);
  await ctx.stop();
  return progress;
}

const none = { count: 0, min: undefined, max: undefined, avg: undefined };

describe('the progress event', () => {
  it('reports each watermarked stream\'s event times (count, min, max, mean) and its watermark, batch by batch', async () => {
    const progress = await run();
    const slow = expect.stringMatching(/^withWatermark#\d+$/) as unknown as string;
    const expected: EventTimeStats[][] = [
      [
        { stream: 'fast', count: 3, min: 40, max: 63, avg: 51, watermark: undefined, idle: false },
        { stream: slow, count: 1, min: 5, max: 5, avg: 5, watermark: undefined, idle: false },
      ] as EventTimeStats[],
      // Batch 1 uses what batch 0 saw: 63 - 3 = 60, and 5.
      [{ stream: 'fast', ...none, watermark: 60, idle: false }, { stream: slow, ...none, watermark: 5, idle: false }] as EventTimeStats[],
      // By batch 2 the unnamed input has had no records for 2 s: idle, it no longer holds the global watermark back.
      [{ stream: 'fast', count: 1, min: 70, max: 70, avg: 70, watermark: 60, idle: false }, { stream: slow, ...none, watermark: 5, idle: true }] as EventTimeStats[],
    ];
    expect(progress.map((p) => p.eventTime)).toEqual(expected);
    expect(progress.map((p) => p.watermark)).toEqual([undefined, 5, 60]);
  });

  it('counts only the records withWatermark kept (a record set aside by its onError policy is not in it)', async () => {
    const clock = new ManualClock();
    const ctx = new StreamingContext({ batchInterval: 1000, clock });
    const progress: BatchProgress[] = [];
    ctx.addListener((e) => {
      if (e.type === 'batchCompleted') progress.push(e.progress);
    });
    ctx
      .queueStream([[ev(10), ev(Number.NaN), ev(30)]])
      .pipe(withWatermark((e: Ev) => e.t, 0, { name: 'events', onError: 'skip' }), filter((e: Ev) => e.t > 10), foreachBatch(() => undefined));
    await ctx.start();
    await clock.advance(1000);
    await ctx.stop();
    // The filter downstream does not change them: they are what the watermark follows.
    expect(progress[0]?.eventTime).toEqual([{ stream: 'events', count: 2, min: 10, max: 30, avg: 20, watermark: undefined, idle: false }]);
  });

  it('is empty in a context without watermarks', async () => {
    const clock = new ManualClock();
    const ctx = new StreamingContext({ batchInterval: 1000, clock });
    const progress: BatchProgress[] = [];
    ctx.addListener((e) => {
      if (e.type === 'batchCompleted') progress.push(e.progress);
    });
    ctx.queueStream([[1, 2]]).pipe(foreachBatch(() => undefined));
    await ctx.start();
    await clock.advance(1000);
    await ctx.stop();
    expect(progress.map((p) => p.eventTime)).toEqual([[]]);
  });

  it('goes into the debug summary of each batch in the log, with the watermark', async () => {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        done();
      },
    });
    const progress = await run({ logger: pino({ level: 'debug' }, sink) });
    const summaries = lines.filter((l) => l['msg'] === 'batch completed');
    expect(summaries.map((l) => [l['batchId'], l['watermark']])).toEqual([[0, undefined], [1, 5], [2, 60]]);
    // JSON leaves out the undefined figures of a stream without records.
    expect(summaries.map((l) => l['eventTime'])).toEqual(progress.map((p) => JSON.parse(JSON.stringify(p.eventTime)) as unknown));
  });
});
