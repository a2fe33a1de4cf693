import { expect, it } from 'vitest';
import { foreachBatch, ManualClock, StreamingContext, type DStream } from 'sluice';
import { streamingKMeans } from 'sluice/ml';
import { readmeSnippet } from '../support/readme-snippet.js';

it("runs the README's online learning snippet as written: the far point of the second batch is flagged", async () => {
  const code = await readmeSnippet('## Online learning');
  const clock = new ManualClock();
  const ctx = new StreamingContext({ batchInterval: 1000, clock });
  const points = ctx.queueStream<number[]>([
    [
      [0, 0],
      [0, 1],
      [10, 10],
      [10, 11],
    ],
    [
      [0, 0.5],
      [20, 20],
    ],
  ]);
  const alerts: unknown[] = [];
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- the README's own code, run as written.
  const run = new Function('points', 'alerts', 'streamingKMeans', 'foreachBatch', code) as (p: DStream<number[]>, a: unknown[], s: typeof streamingKMeans, f: typeof foreachBatch) => void;
  run(points, alerts, streamingKMeans, foreachBatch);
  await ctx.start();
  await clock.advance(2000);
  await ctx.stop();
  expect(ctx.failure).toBeUndefined();
  expect(alerts).toEqual([[20, 20]]);
});
