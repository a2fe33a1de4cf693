import { describe, expect, it } from 'vitest';
import { foreachBatch, keyBy, ManualClock, StreamingContext } from 'sluice';
import { mapWithState, stateSpec, type State } from 'sluice/state';
import { withWatermark } from 'sluice/windows';
import { runBatches } from 'sluice/testing';

interface Ev {
  readonly key: string;
  readonly t: number;
}

describe('mapWithState on event time', () => {
  it('fires an event-time timer in the first batch whose watermark has reached it', async () => {
    const spec = stateSpec((_key: string, ev: Ev | undefined, state: State<number>): string | undefined => {
      if (ev !== undefined && !state.exists()) {
        state.update(ev.t);
        state.setTimer(ev.t + 100, 'event');
      }
      return undefined;
    }).onTimer((key, timer, state) => `${key}: timer ${timer.time} (${timer.domain}) for ${state.get()}`);
    // Watermarks (delay 0) used by batches 1..4: 10, 50, 109, 110.
    const input: Ev[][] = [[{ key: 'a', t: 10 }], [{ key: 'b', t: 50 }], [{ key: 'b', t: 109 }], [{ key: 'b', t: 110 }], []];
    const out = await runBatches(input, (s) => s.pipe(withWatermark((e: Ev) => e.t, 0), keyBy((e: Ev) => e.key), mapWithState(spec)), { numPartitions: 1 });
    expect(out).toEqual([[], [], [], [], ['a: timer 110 (event) for 10']]);
  });

  it('expires state on an event-time TTL measured on the watermark', async () => {
    const spec = stateSpec((key: string, _ev: Ev | undefined, state: State<number>) => {
      const n = (state.getOption() ?? 0) + 1;
      state.update(n);
      return `${key}=${n}`;
    }).ttl(100, { timeDomain: 'event' });
    // 'a' is written under watermark 10 (batch 1) and expires once the watermark (111 before batch 3)
    // is past 10 + 100. 'x' was written before there was any watermark: the first one (10) gives it
    // the deadline 110, but its write in batch 2 (watermark 20) moves it to 120.
    const input: Ev[][] = [[{ key: 'x', t: 10 }], [{ key: 'a', t: 20 }], [{ key: 'x', t: 111 }], [{ key: 'a', t: 112 }]];
    const out = await runBatches(input, (s) => s.pipe(withWatermark((e: Ev) => e.t, 0), keyBy((e: Ev) => e.key), mapWithState(spec)), { numPartitions: 1 });
    expect(out).toEqual([['x=1'], ['a=1'], ['x=2'], ['a=1']]);
  });

  it('gives a key written before the first watermark its TTL deadline from that watermark, and expires it then', async () => {
    const spec = stateSpec((key: string, _ev: Ev | undefined, state: State<number>) => {
      const n = (state.getOption() ?? 0) + 1;
      state.update(n);
      return `${key}=${n}`;
    }).ttl(100, { timeDomain: 'event' });
    // Watermarks used by batches 1..3: 10, 50, 115. 'x' (batch 0, no watermark yet) gets the
    // deadline 10 + 100 from the first one, so the watermark 115 has expired it: batch 3 starts it
    // anew. (From a later watermark, 50 + 100, it would still be alive: 'x=2'.)
    const input: Ev[][] = [[{ key: 'x', t: 10 }], [{ key: 'y', t: 50 }], [{ key: 'w', t: 115 }], [{ key: 'x', t: 116 }]];
    const out = await runBatches(input, (s) => s.pipe(withWatermark((e: Ev) => e.t, 0), keyBy((e: Ev) => e.key), mapWithState(spec)), { numPartitions: 1 });
    expect(out).toEqual([['x=1'], ['y=1'], ['w=1'], ['x=1']]);
  });

  it('follows the watermark of its own input, not a slower stream elsewhere in the program', async () => {
    const clock = new ManualClock();
    const ctx = new StreamingContext({ batchInterval: 1000, clock, defaultParallelism: 1 });
    const spec = stateSpec((_key: string, ev: Ev | undefined, state: State<number>): string | undefined => {
      if (ev !== undefined && !state.exists()) {
        state.update(ev.t);
        state.setTimer(ev.t + 100, 'event');
      }
      return undefined;
    }).onTimer((key, timer) => `${key}: timer ${timer.time}`);
    const fired: string[] = [];
    ctx
      .queueStream<Ev>([[{ key: 'a', t: 10 }], [{ key: 'a', t: 500 }], []])
      .pipe(withWatermark((e: Ev) => e.t, 0), keyBy((e: Ev) => e.key), mapWithState(spec), foreachBatch((r) => void fired.push(...r)));
    // A second, slow watermarked stream holds the global watermark back at 0.
    ctx.queueStream<Ev>([[{ key: 'z', t: 0 }]]).pipe(withWatermark((e: Ev) => e.t, 0), foreachBatch(() => undefined));
    await ctx.start();
    await clock.advance(3000);
    await ctx.stop();
    expect(fired).toEqual(['a: timer 110']);
  });
});
