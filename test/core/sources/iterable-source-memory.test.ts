import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { foreachBatch, ManualClock, StreamingContext } from 'sluice';
import { until } from '../../support/until.js';

/** Lets the event loop turn `n` times: time for a source that would go on reading to do so. */
async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await nextTurn();
}

describe('iterable source under a producer faster than the job', () => {
  it('reads an async iterable ahead only to highWaterMark records, and on as commits free them', async () => {
    let pulled = 0;
    async function* endless(): AsyncGenerator<number> {
      for (;;) {
        await nextTurn();
        yield pulled++;
      }
    }
    const clock = new ManualClock();
    const ctx = new StreamingContext({ batchInterval: 1000, clock });
    const sizes: number[] = [];
    ctx.fromIterable(endless(), { highWaterMark: 50, maxRecordsPerBatch: 20 }).pipe(foreachBatch((records) => void sizes.push(records.length)));
    await ctx.start();
    await until(() => pulled >= 50, 'the read-ahead to fill');
    await turns(200);
    expect(pulled).toBeLessThanOrEqual(51);
    for (let batch = 1; batch <= 5; batch++) {
      await clock.advance(1000);
      await until(() => pulled >= 50 + 20 * batch, `the read-ahead to refill after batch ${batch}`);
      await turns(200);
      // What the batches committed, plus at most the mark held (and the one record in hand).
      expect(pulled).toBeLessThanOrEqual(20 * batch + 51);
    }
    await ctx.stop();
    expect(sizes).toEqual([20, 20, 20, 20, 20]);
  });
});
