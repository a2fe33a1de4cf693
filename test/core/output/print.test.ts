import { describe, expect, it } from 'vitest';
import { ManualClock, StreamingContext, print } from 'sluice';

describe('print', () => {
  it("prints the first n records of every batch under Spark's header, with ... when there are more", async () => {
    const clock = new ManualClock();
    const ctx = new StreamingContext({ batchInterval: 1000, clock });
    const lines: string[] = [];
    ctx.queueStream<unknown>([['a', 1, ['k', 2], { x: 1n }], []]).pipe(print(3, { out: (l) => lines.push(l) }));
    await ctx.start();
    await clock.advance(2000);
    await ctx.stop();
    const rule = '-------------------------------------------';
    expect(lines).toEqual([rule, 'Time: 1000 ms', rule, 'a', '1', '["k",2]', '...', '', rule, 'Time: 2000 ms', rule, '']);
  });

  it('rejects a negative count', () => {
    expect(() => print(-1)).toThrow(RangeError);
  });
});
