import { expect, it } from 'vitest';
import { filter, ManualClock, map, StreamingContext } from 'sluice';
import { jetStreamSink, jetStreamSource } from 'sluice/nats';
import { readmeSnippet } from '../../support/readme-snippet.js';
import { describeWith, NATS } from '../../support/services.js';
import { messagesOf, newStream, publish } from './nats-harness.js';

await describeWith(NATS, "README's NATS JetStream snippet", () => {
  it('runs as written, from a stream of orders to a stream of alerts (streams of its own)', async () => {
    const orders = await newStream('readme_orders');
    const alerts = await newStream('readme_alerts');
    const code = await readmeSnippet('**NATS JetStream**', [
      ["'ORDERS'", `'${orders}'`],
      ["'orders.>'", `'${orders}.>'`],
      ["'ALERTS'", `'${alerts}'`],
      ['`alerts.', `\`${alerts}.`],
    ]);
    expect(code).toContain(orders);
    expect(code).toContain(`\`${alerts}.`);
    await publish(`${orders}.web`, ['{"card":"a","amount":5}', '{"card":"b","amount":5000}', '{"card":"c","amount":1200}']);
    const clock = new ManualClock();
    const ctx = new StreamingContext({ batchInterval: 1000, clock });
    // eslint-disable-next-line @typescript-eslint/no-implied-eval -- the README's own code, run as written.
    const run = new Function('ctx', 'jetStreamSource', 'jetStreamSink', 'map', 'filter', code) as (...args: unknown[]) => void;
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
