import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { foreachBatch, ManualClock, mapToPair, StreamingContext } from 'sluice';
import { mapWithState, stateSpec, type State } from 'sluice/state';

/*
 * Heap bytes per key of mapWithState's memory store (scenario 7 of bench/, smaller): a bound on
 * bytes, not on time. Regression: entries built by spreading an array carried spare capacity, and
 * a key took about 310 bytes instead of about 195. Vitest runs each file in its own process, so
 * the heap measured is this job's.
 */

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const KEYS = 100_000;
/** The scenario's target is 200 B per key; a spare-capacity entry costs about 100 B more. */
const MOST_BYTES_PER_KEY = 250;

describe('memory of a state entry', () => {
  it(`keeps a { count, sum } state under ${MOST_BYTES_PER_KEY} bytes per key in the memory store`, async () => {
    const clock = new ManualClock();
    const ctx = new StreamingContext({ batchInterval: 1000, clock });
    const spec = stateSpec((_key: number, value: number | undefined, state: State<{ count: number; sum: number }>) => {
      const old = state.getOption() ?? { count: 0, sum: 0 };
      state.update({ count: old.count + 1, sum: old.sum + (value ?? 0) });
      return undefined;
    });
    const queue: number[][] = [];
    ctx.queueStream(queue).pipe(
      mapToPair((i: number) => [i, i % 100]),
      mapWithState(spec),
      foreachBatch(() => undefined),
    );
    await ctx.start();
    try {
      await clock.advance(1000);
      gc();
      const before = process.memoryUsage().heapUsed;
      for (let from = 0; from < KEYS; from += 25_000) {
        queue.push(Array.from({ length: 25_000 }, (_, j) => from + j));
        await clock.advance(1000);
      }
      // Empty batches, so that no batch held by the engine keeps input alive.
      for (let i = 0; i < 3; i++) await clock.advance(1000);
      gc();
      const perKey = (process.memoryUsage().heapUsed - before) / KEYS;
      expect(perKey, `${perKey.toFixed(0)} bytes per key`).toBeLessThanOrEqual(MOST_BYTES_PER_KEY);
      expect(perKey).toBeGreaterThan(50); // the state is really held (a measurement that cannot fail is no test)
    } finally {
      await ctx.stop();
    }
  });
});
