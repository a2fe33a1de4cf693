import { describe, expect, it } from 'vitest';
import { ManualClock, StreamingContext, foreachBatch } from 'sluice';
import { until } from '../../support/until.js';

describe('iterable source', () => {
  it('takes up to maxRecordsPerBatch from a sync iterable each batch', async () => {
    const clock = new ManualClock();
    const ctx = new StreamingContext({ batchInterval: 1000, clock });
    const seen: number[][] = [];
    ctx.fromIterable([1, 2, 3, 4, 5], { maxRecordsPerBatch: 2 }).pipe(foreachBatch((r) => void seen.push([...r])));
    await ctx.start();
    await clock.advance(4000);
    await ctx.stop();
    expect(seen).toEqual([[1, 2], [3, 4], [5], []]);
  });

  it('uses batchSize when no limit is set, and does not exhaust an infinite iterable', async () => {
    function* naturals(): Generator<number> {
      for (let i = 0; ; i++) yield i;
    }
    const clock = new ManualClock();
    const ctx = new StreamingContext({ batchInterval: 1000, clock });
    const sizes: number[] = [];
    ctx.fromIterable(naturals(), { batchSize: 3 }).pipe(foreachBatch((r) => void sizes.push(r.length)));
    await ctx.start();
    await clock.advance(2000);
    await ctx.stop();
    expect(sizes).toEqual([3, 3]);
  });

  it('reads an async iterable ahead and drains it on a graceful stop', async () => {
    let exhausted = false;
    async function* letters(): AsyncGenerator<string> {
      for (const l of 'abcdefg') {
        await new Promise((resolve) => setImmediate(resolve));
        yield l;
      }
      exhausted = true;
    }
    const clock = new ManualClock();
    const ctx = new StreamingContext({ batchInterval: 1000, clock });
    const seen: string[] = [];
    ctx.fromIterable(letters(), { maxRecordsPerBatch: 3 }).pipe(foreachBatch((r) => void seen.push(...r)));
    await ctx.start();
    // Read ahead: the source takes the whole iterable before any batch asks for it.
    await until(() => exhausted, 'the source to read the iterable to its end');
    await clock.advance(1000);
    expect(seen).toEqual(['a', 'b', 'c']);
    await ctx.stop({ graceful: true });
    expect(seen.join('')).toBe('abcdefg');
  });

  it('fails the batch with SOURCE_FAILED when the async iterable throws', async () => {
    let thrown = false;
    async function* failing(): AsyncGenerator<number> {
      yield 1;
      await Promise.resolve();
      thrown = true;
      throw new Error('upstream broke');
    }
    const clock = new ManualClock();
    const ctx = new StreamingContext({ batchInterval: 1000, clock });
    ctx.fromIterable(failing(), { name: 'up' }).pipe(foreachBatch(() => undefined));
    await ctx.start();
    // The source's read-ahead sees the error in the same turn (microtasks) as the throw.
    await until(() => thrown, 'the async iterable to throw');
    await clock.advance(1000);
    await expect(ctx.awaitTermination()).rejects.toMatchObject({ code: 'SOURCE_FAILED', source: 'up' });
  });

  it('rejects something that is not iterable', () => {
    const ctx = new StreamingContext({ batchInterval: 1000, clock: new ManualClock() });
    expect(() => ctx.fromIterable(42 as unknown as number[])).toThrow(TypeError);
  });
});
