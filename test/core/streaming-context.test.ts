import { describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { foreachBatch, ManualClock, map, SluiceError, StreamingContext, SystemClock, type BatchInfo, type StreamingEvent } from 'sluice';
import type { Source } from 'sluice/extend';

function manualContext(start = 0, interval: number | string = 1000) {
  const clock = new ManualClock(start);
  const ctx = new StreamingContext({ batchInterval: interval, clock });
  return { clock, ctx };
}

/** Resolves when batch `batchId` of `ctx` has completed. */
function completedBatch(ctx: StreamingContext, batchId: number): Promise<void> {
  return new Promise((resolve) => {
    ctx.addListener((e) => {
      if (e.type === 'batchCompleted' && e.progress.batchId === batchId) resolve();
    });
  });
}

/** Resolves once `clock.now()` is past `time` (on the clock's own timers, checked against its reading). */
async function clockPast(clock: SystemClock, time: number): Promise<void> {
  while (clock.now() <= time) await new Promise<void>((resolve) => clock.schedule(time + 1, resolve));
}

describe('StreamingContext', () => {
  it('numbers batches from 0 with batchTime = zeroTime + (k + 1) * interval', async () => {
    const { clock, ctx } = manualContext(1500);
    const seen: BatchInfo[] = [];
    ctx.queueStream<number>().pipe(foreachBatch((_, info) => void seen.push(info)));
    await ctx.start();
    expect(ctx.zeroTime).toBe(1000);
    await clock.advance(499);
    expect(seen).toEqual([]);
    await clock.advance(1);
    await clock.advance(2000);
    expect(seen).toEqual([
      { batchId: 0, batchTime: 2000 },
      { batchId: 1, batchTime: 3000 },
      { batchId: 2, batchTime: 4000 },
    ]);
    await ctx.stop();
  });

  it('accepts human durations and quotes a bad one in a RangeError', () => {
    expect(new StreamingContext({ batchInterval: '2s', clock: new ManualClock() }).batchInterval).toBe(2000);
    expect(new StreamingContext({ batchInterval: 'PT0.5S', clock: new ManualClock() }).batchInterval).toBe(500);
    expect(() => new StreamingContext({ batchInterval: 'soon' })).toThrow(RangeError);
    expect(() => new StreamingContext({ batchInterval: 'soon' })).toThrow(/'soon'/);
    expect(() => new StreamingContext({ batchInterval: 0 })).toThrow(/greater than zero/);
    expect(() => new StreamingContext({ batchInterval: 1000, defaultParallelism: 0 })).toThrow(RangeError);
  });

  it('ManualClock.advance resolves only when every due batch, async outputs included, has finished', async () => {
    const { clock, ctx } = manualContext();
    const done: number[] = [];
    ctx.queueStream([[1], [2], [3]]).pipe(
      foreachBatch(async (records) => {
        await new Promise((resolve) => setImmediate(resolve));
        done.push(...records);
      }),
    );
    await ctx.start();
    await clock.advance(3000);
    expect(done).toEqual([1, 2, 3]);
    await ctx.stop();
  });

  it('runs jobs of several outputs in definition order and computes a shared stream once per batch', async () => {
    const { clock, ctx } = manualContext();
    const order: string[] = [];
    let calls = 0;
    const doubled = ctx.queueStream([[1, 2]]).pipe(
      map((x: number) => {
        calls++;
        return x * 2;
      }),
    );
    doubled.pipe(foreachBatch((r) => void order.push(`first:${r.join(',')}`)));
    doubled.pipe(foreachBatch((r) => void order.push(`second:${r.join(',')}`)));
    await ctx.start();
    await clock.advance(1000);
    expect(order).toEqual(['first:2,4', 'second:2,4']);
    expect(calls).toBe(2);
    await ctx.stop();
  });

  it('rejects new operators and outputs after start, and a second start', async () => {
    const { ctx } = manualContext();
    const input = ctx.queueStream<number>();
    input.pipe(foreachBatch(() => undefined));
    await ctx.start();
    expect(() => input.pipe(map((x) => x + 1))).toThrow(TypeError);
    expect(() => input.pipe(map((x) => x + 1))).toThrow(/before calling start\(\)/);
    expect(() => input.pipe(foreachBatch(() => undefined))).toThrow(TypeError);
    expect(() => ctx.queueStream()).toThrow(TypeError);
    await expect(ctx.start()).rejects.toThrow(TypeError);
    await ctx.stop();
    expect(ctx.state).toBe('stopped');
  });

  it('refuses to start without an output operation', async () => {
    const { ctx } = manualContext();
    ctx.queueStream<number>().pipe(map((x) => x));
    await expect(ctx.start()).rejects.toThrow(/no output operations/);
  });

  it('refuses two sources with the same name', () => {
    const { ctx } = manualContext();
    ctx.queueStream([], { name: 'clicks' });
    expect(() => ctx.queueStream([], { name: 'clicks' })).toThrow(/already registered/);
  });

  it('refuses a source option out of range when the source is defined, not at start', () => {
    const { ctx } = manualContext();
    expect(() => ctx.queueStream([], { maxRecordsPerBatch: 0 })).toThrow(RangeError);
    expect(() => ctx.queueStream([], { numPartitions: 1.5 })).toThrow(RangeError);
    expect(() => ctx.queueStream([], { name: 'q', badRecords: 'skip' as 'fail' })).toThrow(/Source q: badRecords must be 'fail' or 'deadLetter', got "skip"/);
  });

  it('stop() without grace leaves queued data unread; awaitTermination resolves', async () => {
    const { clock, ctx } = manualContext();
    const seen: number[][] = [];
    ctx.queueStream([[1], [2], [3]]).pipe(foreachBatch((r) => void seen.push([...r])));
    await ctx.start();
    await clock.advance(1000);
    await ctx.stop();
    await expect(ctx.awaitTermination()).resolves.toBeUndefined();
    await clock.advance(5000);
    expect(seen).toEqual([[1]]);
  });

  it('stop({ graceful: true }) finishes the data already received, in batches at the following batch times', async () => {
    const { clock, ctx } = manualContext();
    const seen: [number, number[]][] = [];
    ctx.queueStream([[1], [2], [3, 4]]).pipe(foreachBatch((r, info) => void seen.push([info.batchTime, [...r]])));
    await ctx.start();
    await clock.advance(1000);
    await ctx.stop({ graceful: true });
    expect(seen).toEqual([
      [1000, [1]],
      [2000, [2]],
      [3000, [3, 4]],
    ]);
    expect(ctx.state).toBe('stopped');
  });

  it('graceful stop respects the per-batch record limit while draining', async () => {
    const { ctx } = manualContext();
    const sizes: number[] = [];
    ctx.queueStream([[1, 2, 3, 4, 5]], { maxRecordsPerBatch: 2 }).pipe(foreachBatch((r) => void sizes.push(r.length)));
    await ctx.start();
    await ctx.stop({ graceful: true });
    expect(sizes).toEqual([2, 2, 1]);
  });

  it('a throwing user function fails its batch: no later batch runs and awaitTermination rejects naming operator and batch', async () => {
    const { clock, ctx } = manualContext();
    const events: StreamingEvent[] = [];
    ctx.addListener((e) => events.push(e));
    const seen: number[] = [];
    const boom = new Error('boom');
    ctx
      .queueStream([[1], [2], [3]])
      .pipe(
        map((x: number) => {
          if (x === 2) throw boom;
          return x;
        }),
        foreachBatch((r) => void seen.push(...r)),
      );
    await ctx.start();
    await clock.advance(5000);
    const error = await ctx.awaitTermination().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SluiceError);
    const failure = error as SluiceError;
    expect(failure.code).toBe('USER_FUNCTION_FAILED');
    expect(failure.operator).toMatch(/^map#\d+$/);
    expect(failure.batchId).toBe(1);
    expect(failure.batchTime).toBe(2000);
    expect(failure.cause).toBe(boom);
    expect(failure.message).toMatch(/Operator map#\d+ \(defined at test\/core\/streaming-context\.test\.ts:\d+:\d+\) threw in batch 1 \(batch time 2000\): boom/);
    expect(seen).toEqual([1]);
    expect(ctx.state).toBe('stopped');
    expect(events.map((e) => e.type)).toEqual(['contextStarted', 'batchStarted', 'batchCompleted', 'batchStarted', 'batchFailed', 'contextStopped']);
  });

  it('a rejecting foreachBatch fails the batch with the output named', async () => {
    const { clock, ctx } = manualContext();
    ctx.queueStream([[1]]).pipe(
      foreachBatch(
        () => {
          throw new TypeError('sink down');
        },
        { name: 'audit-sink' },
      ),
    );
    await ctx.start();
    await clock.advance(1000);
    await expect(ctx.awaitTermination()).rejects.toMatchObject({ code: 'USER_FUNCTION_FAILED', operator: 'audit-sink', batchId: 0 });
  });

  it('a failing source fails the batch with SOURCE_FAILED and the source named', async () => {
    const { clock, ctx } = manualContext();
    const broken: Source<number> = {
      kind: 'broken',
      replayable: false,
      initialOffset: () => 0,
      latestOffset: () => {
        throw new Error('disk on fire');
      },
      read: () => ({ records: [] }),
    };
    ctx.source(broken, { name: 'b' }).pipe(foreachBatch(() => undefined));
    await ctx.start();
    await clock.advance(1000);
    await expect(ctx.awaitTermination()).rejects.toMatchObject({ code: 'SOURCE_FAILED', source: 'b', batchId: 0 });
  });

  it('reports a progress event per batch and survives a throwing listener', async () => {
    const { clock, ctx } = manualContext();
    const progress: unknown[] = [];
    ctx.addListener(() => {
      throw new Error('listener bug');
    });
    const off = ctx.addListener((e) => {
      if (e.type === 'batchCompleted') progress.push(e.progress);
    });
    ctx.queueStream([['a', 'b'], []], { name: 'letters' }).pipe(foreachBatch(() => undefined));
    await ctx.start();
    await clock.advance(2000);
    off();
    await clock.advance(1000);
    expect(progress).toEqual([
      expect.objectContaining({ batchId: 0, batchTime: 1000, numInputRecords: 2, numBadRecords: 0, schedulingDelayMs: 0, processingTimeMs: 0, sources: [{ source: 'letters', inputRecords: 2, badRecords: 0, startOffset: 0, endOffset: 2 }] }),
      expect.objectContaining({ batchId: 1, batchTime: 2000, numInputRecords: 0 }),
    ]);
    await ctx.stop();
  });

  it('logs lifecycle through the user logger and nothing per record', async () => {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, callback) {
        lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        callback();
      },
    });
    const clock = new ManualClock();
    const ctx = new StreamingContext({ batchInterval: 1000, clock, logger: pino({ level: 'debug' }, sink) });
    ctx.queueStream([Array.from({ length: 100 }, (_, i) => i)]).pipe(foreachBatch(() => undefined));
    await ctx.start();
    await clock.advance(1000);
    await ctx.stop();
    await new Promise((resolve) => setImmediate(resolve));
    const messages = lines.map((l) => l['msg']);
    expect(messages).toEqual(['streaming context started', 'batch completed', 'streaming context stopped']);
    expect(lines[1]).toMatchObject({ component: 'sluice', batchId: 0, records: 100 });
  });

  it('on the system clock, a slow batch delays the next (scheduling delay) and no batch is skipped', async () => {
    const clock = new SystemClock();
    const ctx = new StreamingContext({ batchInterval: 40, clock });
    const delays: number[] = [];
    const times: number[] = [];
    const batch2Completed = completedBatch(ctx, 2);
    ctx.addListener((e) => {
      if (e.type === 'batchCompleted') {
        delays.push(e.progress.schedulingDelayMs);
        times.push(e.progress.batchTime);
      }
    });
    ctx.queueStream<number>().pipe(
      foreachBatch(async (_, { batchId, batchTime }) => {
        // Batch 0 runs until batch 2's time has passed on the clock: batches 1 and 2 are overdue.
        if (batchId === 0) await clockPast(clock, batchTime + 2 * 40);
      }),
    );
    await ctx.start();
    await batch2Completed;
    await ctx.stop();
    expect(times.length).toBeGreaterThanOrEqual(3);
    times.forEach((t, i) => {
      expect(t).toBe((ctx.zeroTime ?? 0) + (i + 1) * 40);
    });
    expect(delays[1]).toBeGreaterThan(40);
    expect(delays[2]).toBeGreaterThan(0);
  });

  it('a source that fails to start stops the sources already started and rejects start with SOURCE_FAILED', async () => {
    const { ctx } = manualContext();
    const stopped: string[] = [];
    const make = (kind: string, fail: boolean): Source<number> => ({
      kind,
      replayable: false,
      start: () => {
        if (fail) throw new Error('port in use');
      },
      stop: () => void stopped.push(kind),
      initialOffset: () => 0,
      latestOffset: (start) => start,
      read: () => ({ records: [] }),
    });
    ctx.source(make('good', false)).pipe(foreachBatch(() => undefined));
    ctx.source(make('bad', true)).pipe(foreachBatch(() => undefined));
    await expect(ctx.start()).rejects.toMatchObject({ code: 'SOURCE_FAILED', source: 'bad-1' });
    expect(stopped).toEqual(['good']);
    expect(ctx.state).toBe('stopped');
    await expect(ctx.awaitTermination()).rejects.toMatchObject({ code: 'SOURCE_FAILED' });
  });

  it('rejects a per-batch record limit or partition count that is not a positive integer', () => {
    const { ctx } = manualContext();
    expect(() => ctx.queueStream([], { maxRecordsPerBatch: 1.5 })).toThrow(RangeError);
    expect(() => ctx.queueStream([], { maxRecordsPerBatch: 0 })).toThrow(/positive integer/);
    expect(() => ctx.queueStream([], { numPartitions: 0 })).toThrow(RangeError);
  });

  it('a graceful stop of a rate source on the system clock ends (it produces nothing after the stop)', async () => {
    const ctx = new StreamingContext({ batchInterval: 20, clock: new SystemClock() });
    let total = 0;
    ctx.rateStream({ rowsPerSecond: 1000, maxRecordsPerBatch: 5 }).pipe(foreachBatch((r) => void (total += r.length)));
    const firstRecords = new Promise<void>((resolve) => {
      ctx.addListener((e) => {
        if (e.type === 'batchCompleted' && e.progress.numInputRecords > 0) resolve();
      });
    });
    await ctx.start();
    await firstRecords;
    await ctx.stop({ graceful: true });
    expect(total).toBeGreaterThan(0);
    expect(ctx.state).toBe('stopped');
  });
});
