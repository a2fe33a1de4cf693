import { readFile } from 'node:fs/promises';
import ts from 'typescript';
import { expect, it } from 'vitest';
import { ManualClock, StreamingContext } from 'sluice';
import { redisSink, redisStreamSource } from 'sluice/redis';
import { describeWith, REDIS } from '../../support/services.js';
import { append, keyName, testRedis } from './redis-harness.js';

/** The README's Redis snippet, without its import line, compiled to JavaScript. */
async function snippet(): Promise<string> {
  const readme = await readFile(new URL('../../../README.md', import.meta.url), 'utf8');
  const block = /\*\*Redis\*\*[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  if (block === undefined) throw new Error('README.md has no ts block after "**Redis**"');
  // TypeScript as written, run as the JavaScript it compiles to.
  return ts.transpileModule(block.replace(/^\s*import .*\n/m, ''), { compilerOptions: { target: ts.ScriptTarget.ES2022 } }).outputText;
}

await describeWith(REDIS, "README's Redis snippet", () => {
  it('runs as written (on keys of its own)', async () => {
    const payments = keyName('readme-payments');
    const amounts = keyName('readme-amounts');
    const code = (await snippet()).replace("key: 'payments'", `key: '${payments}'`).replace("key: 'last-amounts'", `key: '${amounts}'`);
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
