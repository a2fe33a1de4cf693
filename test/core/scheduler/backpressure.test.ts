import { describe, expect, it } from 'vitest';
import { foreachBatch, map, StreamingContext, type BatchProgress, type BackpressureOptions } from 'sluice';
import { PidRateEstimator } from '../../../core/scheduler/rate-estimator.js';
import { VirtualClock } from '../../support/virtual-clock.js';

describe('PidRateEstimator (the formula of Spark Streaming)', () => {
  it('follows newRate = r - kp·(r - p) - ki·(delay·p/interval) - kd·dError on a scripted series', () => {
    const pid = new PidRateEstimator(1000);
    // The first batch with records only learns its rate: 1000 records in 500 ms, 2000/s.
    expect(pid.compute(1000, 1000, 500, 0)).toBeUndefined();
    // p = 1000/s, error 1000, no delay: 2000 - 1000 = 1000.
    expect(pid.compute(2000, 1000, 1000, 0)).toBe(1000);
    // p = 800/s, error 200, backlog 500 ms · 800/s / 1000 ms = 400: 1000 - 200 - 0.2 · 400 = 720.
    expect(pid.compute(3000, 1000, 1250, 500)).toBeCloseTo(720, 9);
    // Nothing measured: no records, or no processing time.
    expect(pid.compute(4000, 0, 100, 0)).toBeUndefined();
    expect(pid.compute(4500, 10, 0, 0)).toBeUndefined();
    // p = 800/s, error -80: 720 + 80 = 800.
    expect(pid.compute(5000, 720, 900, 0)).toBeCloseTo(800, 9);
    // A batch older than the last one measured gives nothing.
    expect(pid.compute(5000, 720, 900, 0)).toBeUndefined();
  });

  it('damps with the derivative term, and never goes below the minimum rate', () => {
    const pid = new PidRateEstimator(1000, { proportional: 1, integral: 0.2, derivative: 0.5, minRate: 100 });
    pid.compute(1000, 1000, 500, 0);
    // error 1000, dError (1000 - 0) / 1 s: 2000 - 1000 - 0.5 · 1000 = 500.
    expect(pid.compute(2000, 1000, 1000, 0)).toBe(500);
    // A long backlog would push it below zero: it stays at minRate.
    expect(pid.compute(3000, 100, 1000, 60_000)).toBe(100);
  });

  it('holds a rate the job sustains with no backlog', () => {
    const pid = new PidRateEstimator(100);
    pid.compute(100, 500, 50, 0);
    for (let b = 2; b < 10; b++) expect(pid.compute(100 * b, 500, 50, 0)).toBe(10_000);
  });
});

/**
 * A rate source offering 20,000 records/s to a job that can do 10,000/s (0.1 ms of simulated work
 * per record), in batches of 100 ms, for `batches` batches. The source takes at most 2,000 records
 * a batch (twice what the job does in an interval): without a bound, each late batch would take
 * all the records of its longer wait, and the delay would grow geometrically.
 */
async function overload(backpressure: boolean | BackpressureOptions | undefined, batches = 60): Promise<BatchProgress[]> {
  const clock = new VirtualClock();
  const ctx = new StreamingContext({ batchInterval: 100, clock, ...(backpressure === undefined ? {} : { backpressure }) });
  const progress: BatchProgress[] = [];
  ctx.addListener((e) => {
    if (e.type === 'batchCompleted') progress.push(e.progress);
  });
  ctx
    .rateStream({ rowsPerSecond: 20_000, name: 'rate', maxRecordsPerBatch: 2000 })
    .pipe(
      map((r) => {
        clock.spend(0.1);
        return r;
      }),
    )
    .pipe(foreachBatch(() => undefined));
  await ctx.start();
  while (progress.length < batches) await clock.runUntil(clock.now() + 100);
  await ctx.stop();
  return progress.slice(0, batches);
}

describe('backpressure', () => {
  it('without it, a job fed twice what it can do falls further behind every batch', async () => {
    const progress = await overload(undefined, 30);
    const delays = progress.map((p) => p.schedulingDelayMs);
    // Each batch takes 200 ms of a 100 ms interval: 100 ms more delay per batch.
    expect(delays[29]).toBeGreaterThan(delays[10] as number);
    expect(delays[29]).toBeGreaterThan(2500);
    expect(progress.every((p) => p.sources[0]?.rateLimit === undefined)).toBe(true);
  });

  it('with it, the limit settles near what the job sustains and the scheduling delay stays under two intervals', async () => {
    const progress = await overload(true);
    const settled = progress.slice(10);
    for (const p of settled) expect(p.schedulingDelayMs).toBeLessThan(200);
    // The job does 10,000 records/s: about 1,000 per batch. Throughput at least 0.9 of that.
    const records = settled.reduce((n, p) => n + p.numInputRecords, 0);
    expect(records / settled.length).toBeGreaterThan(900);
    const last = progress[progress.length - 1]?.sources[0];
    expect(last?.rateLimit).toBeGreaterThan(800);
    expect(last?.rateLimit).toBeLessThan(1300);
    expect(last?.estimatedRate).toBeGreaterThan(8000);
  });

  it('starts from initialRate, and a source can opt out', async () => {
    const limited = await overload({ initialRate: 2000 }, 3);
    expect(limited[0]?.numInputRecords).toBe(200);
    expect(limited[0]?.sources[0]?.rateLimit).toBe(200);
    const clock = new VirtualClock();
    const ctx = new StreamingContext({ batchInterval: 100, clock, backpressure: { initialRate: 2000 } });
    const progress: BatchProgress[] = [];
    ctx.addListener((e) => {
      if (e.type === 'batchCompleted') progress.push(e.progress);
    });
    ctx.rateStream({ rowsPerSecond: 20_000, backpressure: false }).pipe(foreachBatch(() => undefined));
    await ctx.start();
    await clock.runUntil(100);
    await ctx.stop();
    expect(progress[0]?.numInputRecords).toBe(2000);
    expect(progress[0]?.sources[0]?.rateLimit).toBeUndefined();
  });

  it('refuses options that are not rates', () => {
    expect(() => new StreamingContext({ batchInterval: 100, backpressure: { minRate: 0 } })).toThrow(/backpressure.minRate must be a positive number/);
    expect(() => new StreamingContext({ batchInterval: 100, backpressure: 'yes' as unknown as boolean })).toThrow(TypeError);
    const ctx = new StreamingContext({ batchInterval: 100 });
    expect(() => ctx.rateStream({ rowsPerSecond: 1, backpressure: 1 as unknown as boolean })).toThrow(/backpressure must be true or false/);
  });
});
