import { describe, expect, it } from 'vitest';
import { ManualClock, RateSource, StreamingContext, foreachBatch, type RateRecord } from 'sluice';

describe('rate source', () => {
  it('produces rowsPerSecond records per second of clock time with deterministic timestamps', async () => {
    const clock = new ManualClock(10_000);
    const ctx = new StreamingContext({ batchInterval: 500, clock });
    const seen: RateRecord[][] = [];
    ctx.rateStream({ rowsPerSecond: 4 }).pipe(foreachBatch((r) => void seen.push([...r])));
    await ctx.start();
    await clock.advance(1000);
    await ctx.stop();
    expect(seen).toEqual([
      [
        { value: 0, timestamp: 10_000 },
        { value: 1, timestamp: 10_250 },
      ],
      [
        { value: 2, timestamp: 10_500 },
        { value: 3, timestamp: 10_750 },
      ],
    ]);
  });

  it('honours totalRows, maxRecordsPerBatch and a custom generator', async () => {
    const clock = new ManualClock();
    const ctx = new StreamingContext({ batchInterval: 1000, clock });
    const seen: string[][] = [];
    ctx.rateStream({ rowsPerSecond: 10, totalRows: 7, maxRecordsPerBatch: 4, generate: (i) => `e${i}` }).pipe(foreachBatch((r) => void seen.push([...r])));
    await ctx.start();
    await clock.advance(3000);
    await ctx.stop();
    expect(seen).toEqual([['e0', 'e1', 'e2', 'e3'], ['e4', 'e5', 'e6'], []]);
  });

  it('gives the same records for the same offsets (replayable)', () => {
    const source = new RateSource({ rowsPerSecond: 3, startTime: 0 });
    expect(source.replayable).toBe(true);
    expect(source.read(2, 5)).toEqual(source.read(2, 5));
    expect(source.read(2, 5).records.map((r) => r.value)).toEqual([2, 3, 4]);
  });

  it('rejects a rate that is not positive', () => {
    expect(() => new RateSource({ rowsPerSecond: 0 })).toThrow(RangeError);
  });
});
