import { describe, expect, it } from 'vitest';
import { ManualClock, QueueSource, StreamingContext, foreachBatch } from 'sluice';

describe('queue source', () => {
  it('takes one queued batch per batch, including batches pushed after start', async () => {
    const clock = new ManualClock();
    const ctx = new StreamingContext({ batchInterval: 1000, clock });
    const queue: string[][] = [['a']];
    const seen: string[][] = [];
    ctx.queueStream(queue).pipe(foreachBatch((r) => void seen.push([...r])));
    await ctx.start();
    await clock.advance(1000);
    queue.push(['b', 'c'], []);
    queue.push(['d']);
    await clock.advance(4000);
    await ctx.stop();
    expect(seen).toEqual([['a'], ['b', 'c'], [], ['d'], []]);
  });

  it('with oneAtATime false takes everything queued', async () => {
    const clock = new ManualClock();
    const ctx = new StreamingContext({ batchInterval: 1000, clock });
    const seen: number[][] = [];
    ctx.queueStream([[1], [2, 3]], { oneAtATime: false }).pipe(foreachBatch((r) => void seen.push([...r])));
    await ctx.start();
    await clock.advance(2000);
    await ctx.stop();
    expect(seen).toEqual([[1, 2, 3], []]);
  });

  it('reads the same range twice with the same records until it is committed', () => {
    const source = new QueueSource<number>([[1, 2, 3]]);
    const end = source.latestOffset(0, 2);
    expect(end).toBe(2);
    expect(source.read(0, end)).toEqual({ records: [1, 2] });
    expect(source.read(0, end)).toEqual({ records: [1, 2] });
    source.commit(end);
    expect(() => source.read(0, end)).toThrow(/already committed/);
    expect(source.latestOffset(2, 10)).toBe(3);
    expect(source.read(2, 3)).toEqual({ records: [3] });
  });
});
