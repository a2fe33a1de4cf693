import { expect, it } from 'vitest';
import { ManualClock, StreamingContext } from 'sluice';
import { redisSink, redisStreamSource } from 'sluice/redis';
import { readmeSnippet } from '../../support/readme-snippet.js';
import { describeWith, REDIS } from '../../support/services.js';
import { append, keyName, testRedis } from './redis-harness.js';

await describeWith(REDIS, "README's Redis snippet", () => {
  it('runs as written (on keys of its own)', async () => {
    const payments = keyName('readme-payments');
    const amounts = keyName('readme-amounts');
    const code = await readmeSnippet('**Redis**', [
      ["key: 'payments'", `key: '${payments}'`],
      ["key: 'last-amounts'", `key: '${amounts}'`],
    ]);
    expect(code).toContain(payments);
    expect(code).toContain(amounts);
    await append(payments, [{ card: 'a', amount: 5 }, { card: 'b', amount: 7 }, { card: 'a', amount: 9 }]);
    const clock = new ManualClock();
    const ctx = new StreamingContext({ batchInterval: 1000, clock });
    // eslint-disable-next-line @typescript-eslint/no-implied-eval -- the README's own code, run as written.
    const run = new Function('ctx', 'redisStreamSource', 'redisSink', code) as (c: StreamingContext, s: typeof redisStreamSource, k: typeof redisSink) => void;
    run(ctx, redisStreamSource, redisSink);
    await ctx.start();
    await clock.advance(1000);
    await ctx.stop();
    expect(ctx.failure).toBeUndefined();
    expect(await (await testRedis()).hGetAll(amounts)).toEqual({ a: '9', b: '7' });
  });
});
