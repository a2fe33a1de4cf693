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
    const [from, to] = [{ rows: 2, startTime: 0 }, { rows: 5, startTime: 0 }];
    expect(source.read(from, to)).toEqual(source.read(from, to));
    expect(source.read(from, to).records.map((r) => r.value)).toEqual([2, 3, 4]);
  });

  it('records its start time in its offsets, so a fresh instance started later replays the same records', async () => {
    const clock = new ManualClock(5_000);
    const first = new RateSource({ rowsPerSecond: 2 });
    const env = { clock, logger: new StreamingContext({ batchInterval: 1000, clock }).logger, name: 'rate' };
    first.start(env);
    await clock.advance(2_000);
    const end = first.latestOffset(first.initialOffset(), 10);
    expect(end).toEqual({ rows: 4, startTime: 5_000 });
    const before = first.read(0, end);
    const restarted = new RateSource({ rowsPerSecond: 2 });
    await clock.advance(60_000);
    restarted.start(env);
    expect(restarted.read(0, end)).toEqual(before);
    await clock.advance(1_000);
    expect(restarted.latestOffset(end, 10)).toEqual({ rows: 6, startTime: 5_000 });
    expect(restarted.read(end, { rows: 6, startTime: 5_000 }).records).toEqual([
      { value: 4, timestamp: 7_000 },
      { value: 5, timestamp: 7_500 },
    ]);
  });

  describe('produces at rowsPerSecond from when it starts, whatever its startTime', () => {
    const env = (clock: ManualClock) => ({ clock, logger: new StreamingContext({ batchInterval: 1000, clock }).logger, name: 'rate' });

    it('a startTime in the past times the records from then on but does not make them exist at once', async () => {
      const clock = new ManualClock(1_000_000);
      const ctx = new StreamingContext({ batchInterval: 1000, clock });
      const seen: RateRecord[][] = [];
      ctx.rateStream({ rowsPerSecond: 2, startTime: 0 }).pipe(foreachBatch((r) => void seen.push([...r])));
      await ctx.start();
      await clock.advance(3000);
      await ctx.stop();
      expect(seen.map((b) => b.map((r) => r.value))).toEqual([[0, 1], [2, 3], [4, 5]]);
      expect(seen[2]?.[1]).toEqual({ value: 5, timestamp: 2_500 });
    });

    it('a startTime in the future delays production until it', async () => {
      const clock = new ManualClock(0);
      const source = new RateSource({ rowsPerSecond: 2, startTime: 3_000 });
      source.start(env(clock));
      await clock.advance(3_000);
      expect(source.latestOffset(0, 100)).toBe(0);
      await clock.advance(1_500);
      expect(source.latestOffset(0, 100)).toEqual({ rows: 3, startTime: 3_000 });
    });

    it('after a restart, goes on at the rate from where its offsets stand: no burst for the downtime, no pause', async () => {
      const clock = new ManualClock(0);
      const first = new RateSource({ rowsPerSecond: 4, startTime: 0 });
      first.start(env(clock));
      await clock.advance(1_000);
      const end = first.latestOffset(0, 100);
      expect(end).toEqual({ rows: 4, startTime: 0 });
      await clock.advance(3_600_000);
      const restarted = new RateSource({ rowsPerSecond: 4 });
      restarted.start(env(clock));
      expect(restarted.latestOffset(end, 100)).toBe(end);
      await clock.advance(500);
      const next = restarted.latestOffset(end, 100);
      expect(next).toEqual({ rows: 6, startTime: 0 });
      await clock.advance(500);
      expect(restarted.latestOffset(next, 100)).toEqual({ rows: 8, startTime: 0 });
    });

    it('with backfill, every record timed up to the clock exists, as after a downtime', async () => {
      const clock = new ManualClock(10_000);
      const source = new RateSource({ rowsPerSecond: 2, startTime: 0, backfill: true });
      source.start(env(clock));
      expect(source.latestOffset(0, 1_000)).toEqual({ rows: 20, startTime: 0 });
      expect(source.latestOffset(0, 5)).toEqual({ rows: 5, startTime: 0 });
      const restarted = new RateSource({ rowsPerSecond: 2, backfill: true });
      await clock.advance(5_000);
      restarted.start(env(clock));
      expect(restarted.latestOffset({ rows: 20, startTime: 0 }, 1_000)).toEqual({ rows: 30, startTime: 0 });
    });
  });

  it('refuses offsets that disagree on the start time, and offsets that are not its own', () => {
    const source = new RateSource({ rowsPerSecond: 1 });
    source.read(0, { rows: 1, startTime: 0 });
    expect(() => source.read({ rows: 1, startTime: 0 }, { rows: 2, startTime: 9 })).toThrow(expect.objectContaining({ code: 'CHECKPOINT_CORRUPT' }));
    expect(() => source.read(0, 3)).toThrow(/not one of this source's/);
  });

  it('rejects a rate that is not positive', () => {
    expect(() => new RateSource({ rowsPerSecond: 0 })).toThrow(RangeError);
  });
});
