import { describe, expect, expectTypeOf, it } from 'vitest';
import { filter, flatMap, foreachBatch, ManualClock, map, mapToPair, mapValues, reduceByKey, StreamingContext, union, type DStream, type Pair } from 'sluice';
import { agg, eventTimeWindow, session, tumbling, withWatermark, type EventTimeWindowDStream, type WindowResult } from 'sluice/windows';
import { runBatches } from 'sluice/testing';

/*
 * The event time `withWatermark` reads travels with each record through the per-record operators,
 * so `eventTimeWindow` needs no extractor that understands what those operators made of the
 * record. Each case: input per batch, the watermark each batch used, the windows each batch emits.
 */

interface Ev {
  readonly key: string;
  readonly ts: number;
}
const ev = (key: string, ts: number): Ev => ({ key, ts });
type Row = [string, number, number, unknown];
const rows = (out: WindowResult<string, unknown>[][]): Row[][] => out.map((batch) => batch.map((r) => [r.key, r.window.start, r.window.end, r.value]));

/** Runs `build` over `input` and returns, per batch, the watermark it used and the rows it emitted. */
async function run<U extends WindowResult<string, unknown>>(input: readonly (readonly Ev[])[], build: (s: DStream<Ev>) => DStream<U>, numPartitions = 2) {
  const watermarks: (number | undefined)[] = [];
  const out = await runBatches(input, build, {
    numPartitions,
    configure: (ctx) => {
      ctx.addListener((e) => {
        if (e.type === 'batchCompleted') watermarks.push(e.progress.watermark);
      });
    },
  });
  return { watermarks, rows: rows(out) };
}

const input = [[ev('a', 1), ev('b', 3), ev('a', 12)], [ev('a', 5), ev('b', 14)], [ev('a', 25)], []];
// Watermark = max event time of the batches before - 0: none, 12, 14, 25.
const watermarks = [undefined, 12, 14, 25];
// a@5 arrives in batch 1, after [0, 10) has closed (watermark 12): late, dropped.
const counted: Row[][] = [[], [['a', 0, 10, 1], ['b', 0, 10, 1]], [], [['a', 10, 20, 1], ['b', 10, 20, 1]]];

describe('the event time withWatermark assigns travels with each record', () => {
  it('eventTimeWindow after mapToPair counts by the carried time (the extractor cannot read the pair)', async () => {
    const windowed = (s: DStream<Ev>) =>
      s.pipe(
        withWatermark((e: Ev) => e.ts, 0),
        mapToPair((e: Ev) => [e.key, 1]),
        eventTimeWindow(tumbling(10), agg.sum()),
      );
    expectTypeOf(windowed).returns.toEqualTypeOf<EventTimeWindowDStream<string, number, number>>();
    // The eventTime option reads the pair's value (here a number), not the record withWatermark saw.
    const misread = (s: DStream<Ev>) =>
      s.pipe(
        withWatermark((e: Ev) => e.ts, 0),
        mapToPair((e: Ev) => [e.key, 1]),
        // @ts-expect-error a function of an Ev is no eventTime for values that are numbers
        eventTimeWindow(tumbling(10), agg.sum(), { eventTime: (e: Ev) => e.ts }),
      );
    expect(typeof misread).toBe('function');
    for (const numPartitions of [1, 2]) {
      const { watermarks: used, rows: out } = await run(input, windowed, numPartitions);
      expect(used).toEqual(watermarks);
      expect(out).toEqual(counted);
    }
  });

  it('through a chain of map, filter, flatMap and mapValues, fused or not, and union', async () => {
    const windowed = (s: DStream<Ev>) => {
      const watermarked = s.pipe(withWatermark((e: Ev) => e.ts, 0));
      // `strings` has two consumers, so it computes a batch of its own (not fused into the chain
      // after the union, which runs in one pass from the union's batch).
      const strings = watermarked.pipe(map((e: Ev) => `${e.key}:${e.ts}`));
      strings.pipe(foreachBatch(() => undefined));
      const dropped = watermarked.pipe(filter(() => false));
      return strings.pipe(
        union(dropped.pipe(map((e: Ev) => `${e.key}:${e.ts}`))),
        flatMap((s: string) => [s, s]),
        filter((_s: string) => true),
        mapToPair((s: string): [string, string] => [s.split(':')[0] as string, s]),
        mapValues((s: string) => s.length),
        eventTimeWindow(tumbling(10), agg.count()),
      );
    };
    const { watermarks: used, rows: out } = await run(input, windowed);
    expect(used).toEqual(watermarks);
    expect(out).toEqual(counted.map((batch) => batch.map(([k, s, e, n]): Row => [k, s, e, (n as number) * 2])));
  });

  it('session windows (which group by key before adding) use the carried time too', async () => {
    const out = await runBatches(
      [[ev('a', 1), ev('a', 4)], [ev('a', 30)], []],
      (s) => s.pipe(withWatermark((e: Ev) => e.ts, 0), mapToPair((e: Ev) => [e.key, e.ts * 10]), eventTimeWindow(session(5), agg.collect())),
      { numPartitions: 2 },
    );
    // The session [1, 9) closes once the watermark (4, then 30) has passed its end.
    expect(out.map((batch) => batch.map((r) => [r.key, r.window.start, r.window.end, r.value]))).toEqual([[], [], [['a', 1, 9, [10, 40]]]]);
  });

  it('the eventTime option still reads the time from the value, over the carried one', async () => {
    const { rows: out } = await run(input, (s) =>
      s.pipe(
        withWatermark((e: Ev) => e.ts, 0),
        mapToPair((e: Ev): Pair<string, number> => [e.key, e.ts + 10]),
        eventTimeWindow(tumbling(10), agg.count(), { eventTime: (shifted) => shifted }),
      ),
    );
    // Every record lands one window later than by its carried time (the watermark is still
    // withWatermark's: 12, 14, 25), so a@5 (now 15) is no longer late.
    expect(out).toEqual([[], [], [], [['a', 10, 20, 2], ['b', 10, 20, 1]]]);
  });

  it('a record the onError policy skips takes its time with it', async () => {
    const { rows: out } = await run(input, (s) =>
      s.pipe(
        withWatermark((e: Ev) => e.ts, 0),
        map((e: Ev) => {
          if (e.key === 'b') throw new Error('no b');
          return e.key;
        }, { onError: 'skip' }),
        mapToPair((k: string) => [k, 1]),
        eventTimeWindow(tumbling(10), agg.count()),
      ),
    );
    expect(out).toEqual([[], [['a', 0, 10, 1]], [], [['a', 10, 20, 1]]]);
  });

  it('a record withWatermark skips (no finite time) leaves the times of the others in place', async () => {
    const withBad = input.map((batch, b) => (b === 0 ? [ev('b', Number.NaN), ...batch, ev('a', Number.NaN)] : batch));
    const { watermarks: used, rows: out } = await run(
      withBad,
      (s) => s.pipe(withWatermark((e: Ev) => e.ts, 0, { onError: 'skip' }), mapToPair((e: Ev) => [e.key, 1]), eventTimeWindow(tumbling(10), agg.count())),
      1,
    );
    expect(used).toEqual(watermarks);
    expect(out).toEqual(counted);
  });
});

describe('where the event time cannot travel', () => {
  it('eventTimeWindow without an eventTime option fails at construction after an operator that does not carry it, naming the option', async () => {
    const pairs = (s: DStream<Ev>) => s.pipe(withWatermark((e: Ev) => e.ts, 0), mapToPair((e: Ev) => [e.key, e.ts]), reduceByKey((a: number, b: number) => Math.max(a, b)));
    const ctx = new StreamingContext({ batchInterval: 1000, clock: new ManualClock() });
    const build = () => pairs(ctx.queueStream<Ev>()).pipe(eventTimeWindow(tumbling(10), agg.count()));
    expect(build).toThrow(TypeError);
    expect(build).toThrow(/eventTimeWindow: the records of reduceByKey#\d+ do not carry the event time.*eventTime option/);
    // A union carries the time only when every input does.
    const carrying = ctx.queueStream<Ev>().pipe(withWatermark((e: Ev) => e.ts, 0), mapToPair((e: Ev) => [e.key, e.ts]));
    const mixed = () => carrying.pipe(union(pairs(ctx.queueStream<Ev>())), eventTimeWindow(tumbling(10), agg.count()));
    expect(mixed).toThrow(/the records of reduceByKey#\d+ do not carry/);
    // With the option, the time is read from the value: the maximum per key and batch.
    const { rows: out } = await run(input, (s) => pairs(s).pipe(eventTimeWindow(tumbling(10), agg.count(), { eventTime: (t) => t })));
    expect(out).toEqual([[], [['b', 0, 10, 1]], [], [['a', 10, 20, 1], ['b', 10, 20, 1]]]);
  });
});
