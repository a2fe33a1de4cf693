import { expect, it, vi } from 'vitest';
import { foreachBatch, ManualClock, StreamingContext } from 'sluice';
import { mqttSource } from 'sluice/mqtt';
import { readmeSnippet } from '../../support/readme-snippet.js';
import { describeWith, MQTT } from '../../support/services.js';
import { clientIdFor, publish, topicName } from './mqtt-harness.js';

await describeWith(MQTT, "README's MQTT snippet", () => {
  it('runs as written (on a topic and client id of its own)', async () => {
    const topic = topicName('readme');
    const clientId = clientIdFor('readme');
    const code = await readmeSnippet('**MQTT**', [
      ["topics: 'sensors/+/temperature'", `topics: '${topic}/+/temperature'`],
      ["clientId: 'temperature-job'", `clientId: '${clientId}'`],
    ]);
    expect(code).toContain(topic);
    expect(code).toContain(clientId);
    const clock = new ManualClock();
    const ctx = new StreamingContext({ batchInterval: 1000, clock });
    const printed: unknown[][] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void printed.push(args));
    try {
      // eslint-disable-next-line @typescript-eslint/no-implied-eval -- the README's own code, run as written.
      const run = new Function('ctx', 'mqttSource', 'foreachBatch', code) as (c: StreamingContext, s: typeof mqttSource, f: typeof foreachBatch) => void;
      run(ctx, mqttSource, foreachBatch);
      await ctx.start();
      await publish(`${topic}/s1/temperature`, [JSON.stringify({ sensor: 's1', celsius: 21.5 })]);
      // The message travels through the broker: a batch a turn until it has come out.
      const deadline = Date.now() + 10_000;
      while (printed.length === 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 10));
        await clock.advance(1000);
      }
      await ctx.stop();
    } finally {
      log.mockRestore();
    }
    expect(ctx.failure).toBeUndefined();
    expect(printed).toEqual([[`${topic}/s1/temperature`, 21.5]]);
  });
});
