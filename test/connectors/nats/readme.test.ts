import { readFile } from 'node:fs/promises';
import ts from 'typescript';
import { expect, it } from 'vitest';
import { filter, ManualClock, map, StreamingContext } from 'sluice';
import { jetStreamSink, jetStreamSource } from 'sluice/nats';
import { describeWith, NATS } from '../../support/services.js';
import { messagesOf, newStream, publish } from './nats-harness.js';

/** The README's NATS JetStream snippet, without its import line (TypeScript: its types are stripped before it runs). */
async function snippet(): Promise<string> {
  const readme = await readFile(new URL('../../../README.md', import.meta.url), 'utf8');
  const block = /\*\*NATS JetStream\*\*[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  if (block === undefined) throw new Error('README.md has no ts block after "**NATS JetStream**"');
  return block.replace(/^\s*import .*\n/m, '');
}

await describeWith(NATS, "README's NATS JetStream snippet", () => {
  it('runs as written, from a stream of orders to a stream of alerts (streams of its own)', async () => {
    const orders = await newStream('readme_orders');
    const alerts = await newStream('readme_alerts');
    const code = (await snippet()).replace("'ORDERS'", `'${orders}'`).replace("'orders.>'", `'${orders}.>'`).replace("'ALERTS'", `'${alerts}'`).replace('`alerts.', `\`${alerts}.`);
    expect(code).toContain(orders);
    expect(code).toContain(`\`${alerts}.`);
    await publish(`${orders}.web`, ['{"card":"a","amount":5}', '{"card":"b","amount":5000}', '{"card":"c","amount":1200}']);
    const clock = new ManualClock();
    const ctx = new StreamingContext({ batchInterval: 1000, clock });
    const js = ts.transpileModule(code, { compilerOptions: { target: ts.ScriptTarget.ES2022 } }).outputText;
    // eslint-disable-next-line @typescript-eslint/no-implied-eval -- the README's own code, run as written.
    const run = new Function('ctx', 'jetStreamSource', 'jetStreamSink', 'map', 'filter', js) as (...args: unknown[]) => void;
    run(ctx, jetStreamSource, jetStreamSink, map, filter);
    await ctx.start();
    await clock.advance(1000);
    await ctx.stop();
    expect(ctx.failure).toBeUndefined();
    expect(await messagesOf(alerts)).toEqual([
      { subject: `${alerts}.b`, data: '{"card":"b","amount":5000}' },
      { subject: `${alerts}.c`, data: '{"card":"c","amount":1200}' },
    ]);
  });
});
