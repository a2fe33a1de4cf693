import { describe, expect, it } from 'vitest';
import { foreachBatch, keyBy, ManualClock, mapToPair, StreamingContext, union, type DStream } from 'sluice';
import { agg, eventTimeWindow, session, sliding, tumbling, withWatermark, type EventTimeWindowOptions, type WindowResult } from 'sluice/windows';
import { hashKey } from 'sluice/extend';
import { runBatches, TestStream } from 'sluice/testing';

interface Ev {
  readonly key: string;
  readonly t: number;
  readonly n?: number;
}
const ev = (key: string, t: number, n = 1): Ev => ({ key, t, n });
type Row = [string, number, number, unknown];
const rows = (out: WindowResult<string, unknown>[][]): Row[][] => out.map((batch) => batch.map((r) => [r.key, r.window.start, r.window.end, r.value]));

const counts = (options: EventTimeWindowOptions<Ev> = {}, delay = 0) => (s: DStream<Ev>) =>
  s.pipe(withWatermark((e: Ev) => e.t, delay), keyBy((e: Ev) => e.key), eventTimeWindow(tumbling(10), agg.count(), options));

describe('eventTimeWindow', () => {
  it('append mode emits each window once, when the watermark of the previous batch has passed its end', async () => {
    const input = [[ev('a', 1), ev('a', 5), ev('b', 12)], [ev('a', 15)], [], [ev('b', 25)], []];
    const out = await runBatches(input, counts(), { numPartitions: 1 });
    // Windows closing together come by end, then start, then the key's hash (hashKey('a') < hashKey('b')).
    expect(hashKey('a')).toBeLessThan(hashKey('b'));
    expect(rows(out)).toEqual([[], [['a', 0, 10, 2]], [], [], [['a', 10, 20, 1], ['b', 10, 20, 1]]]);
  });

  it('update mode emits the windows that changed in each batch', async () => {
    const input = [[ev('a', 1), ev('a', 5), ev('b', 12)], [ev('a', 13)], [ev('b', 30)], [ev('a', 8)]];
    const out = await runBatches(input, counts({ outputMode: 'update' }), { numPartitions: 1 });
    expect(rows(out)).toEqual([[['a', 0, 10, 2], ['b', 10, 20, 1]], [['a', 10, 20, 1]], [['b', 30, 40, 1]], []]);
  });

  it('complete mode emits every window each batch; the watermark evicts none (the whole result table)', async () => {
    const input = [[ev('a', 1), ev('b', 12)], [ev('a', 25)], []];
    const out = await runBatches(input, counts({ outputMode: 'complete' }), { numPartitions: 1 });
    expect(rows(out)).toEqual([
      [['a', 0, 10, 1], ['b', 10, 20, 1]],
      [['a', 0, 10, 1], ['b', 10, 20, 1], ['a', 20, 30, 1]],
      [['a', 0, 10, 1], ['b', 10, 20, 1], ['a', 20, 30, 1]],
    ]);
  });

  it('drops late records and counts them in the progress event', async () => {
    const clock = new ManualClock();
    const ctx = new StreamingContext({ batchInterval: 1000, clock, defaultParallelism: 1 });
    const dropped: number[] = [];
    ctx.addListener((e) => {
      if (e.type === 'batchCompleted') dropped.push((e.progress).lateRecordsDropped);
    });
    const results: Row[][] = [];
    counts()(ctx.queueStream([[ev('a', 1), ev('a', 22)], [ev('a', 3), ev('a', 15), ev('a', 21)]])).pipe(foreachBatch((r) => void results.push(rows([[...r]])[0] ?? [])));
    await ctx.start();
    await clock.advance(3000);
    await ctx.stop();
    // After batch 0 the watermark is 22: [0,10) and [10,20) are closed for batch 1; a@3 and a@15 are late.
    expect(dropped).toEqual([0, 2, 0]);
    expect(results).toEqual([[], [['a', 0, 10, 1]], []]);
  });

  it('sends late records to the side output, exactly those', async () => {
    const clock = new ManualClock();
    const ctx = new StreamingContext({ batchInterval: 1000, clock, defaultParallelism: 1 });
    const windowed = ctx
      .queueStream([[ev('a', 1), ev('b', 40)], [ev('a', 2), ev('b', 41), ev('c', 5)]])
      .pipe(withWatermark((e: Ev) => e.t, 0), keyBy((e: Ev) => e.key), eventTimeWindow(tumbling(10), agg.count(), { late: 'sideOutput' }));
    const late: unknown[] = [];
    windowed.lateRecords().pipe(foreachBatch((r) => void late.push(r.map(([k, e]) => [k, e.t]))));
    windowed.pipe(foreachBatch(() => undefined));
    await ctx.start();
    await clock.advance(2000);
    await ctx.stop();
    expect(late).toEqual([[], [['a', 2], ['c', 5]]]);
    expect(() => ctx.graph.nodes.length).not.toThrow();
  });

  it('allowed lateness keeps a window open and, in update mode, re-emits it with late records', async () => {
    const input = [[ev('a', 1), ev('a', 14)], [ev('a', 2)], [ev('a', 30)], [ev('a', 3)]];
    const out = await runBatches(input, counts({ outputMode: 'update', allowedLateness: 5 }), { numPartitions: 1 });
    // Watermark 14 before batch 1: [0,10) closes at 10 + 5 = 15 > 14, so a@2 still counts; at 30 it has closed.
    expect(rows(out)).toEqual([[['a', 0, 10, 1], ['a', 10, 20, 1]], [['a', 0, 10, 2]], [['a', 30, 40, 1]], []]);
  });

  it('sliding windows count each record in size/slide windows', async () => {
    // Watermark 12 before batch 1 closes [0,10); 100 before batch 2 closes [5,15) and [10,20).
    const input = [[ev('a', 7), ev('a', 12)], [ev('a', 100)], []];
    const out = await runBatches(
      input,
      (s) => s.pipe(withWatermark((e: Ev) => e.t, 0), keyBy((e: Ev) => e.key), eventTimeWindow(sliding(10, 5), agg.count())),
      { numPartitions: 1 },
    );
    expect(rows(out)).toEqual([[], [['a', 0, 10, 1]], [['a', 5, 15, 2], ['a', 10, 20, 1]]]);
  });

  it('session windows merge when a record bridges two sessions', async () => {
    const input = [[ev('u', 0), ev('u', 20)], [ev('u', 10)], [ev('u', 100)], []];
    const out = await runBatches(
      input,
      (s) => s.pipe(withWatermark((e: Ev) => e.t, 50), keyBy((e: Ev) => e.key), eventTimeWindow(session(10), agg.collect<Ev>())),
      { numPartitions: 1 },
    );
    const sessions = out.map((batch) => batch.map((r) => [r.window.start, r.window.end, r.value.map((e) => e.t).sort((a, b) => a - b)]));
    expect(sessions).toEqual([[], [], [], [[0, 30, [0, 10, 20]]]]);
  });

  it('uses the minimum watermark of a union, and an idle input stops holding it back', async () => {
    const clock = new ManualClock();
    const ctx = new StreamingContext({ batchInterval: 1000, clock, defaultParallelism: 1 });
    const fast = ctx.queueStream([[ev('a', 50)], [ev('a', 60)], [], [], []]).pipe(withWatermark((e: Ev) => e.t, 0));
    const slow = ctx.queueStream([[ev('a', 5)]]).pipe(withWatermark((e: Ev) => e.t, 0, { idleTimeout: 2500 }));
    const results: Row[][] = [];
    fast
      .pipe(union(slow), keyBy((e: Ev) => e.key), eventTimeWindow(tumbling(10), agg.count()))
      .pipe(foreachBatch((r) => void results.push(rows([[...r]])[0] ?? [])));
    await ctx.start();
    await clock.advance(5000);
    await ctx.stop();
    // min(60, 5) = 5 holds [50,60) back until the slow input, last fed at 1000, has been idle 2.5 s.
    expect(results).toEqual([[], [], [], [['a', 0, 10, 1], ['a', 50, 60, 1]], []]);
  });

  it('evicts the state of closed windows: state stays bounded over a long stream', async () => {
    const input = Array.from({ length: 60 }, (_, b) => Array.from({ length: 20 }, (_, i) => ev(`k${i % 5}`, b * 10 + (i % 10))));
    let rowsSeen = 0;
    const out = await runBatches(input, counts({}, 0), {
      numPartitions: 1,
      configure: (ctx) => {
        ctx.addListener((e) => {
          if (e.type === 'batchCompleted') rowsSeen = Math.max(rowsSeen, ...e.progress.operators.map((o) => o.stateRows ?? 0));
        });
      },
    });
    // Batch b's windows close two batches later: by the last batch, those of batches 0..57.
    expect(out.flat().reduce((n, r) => n + (r.value), 0)).toBe(58 * 20);
    // Up to 5 keys in the 2 or 3 windows still open.
    expect(rowsSeen).toBeGreaterThanOrEqual(10);
    expect(rowsSeen).toBeLessThan(40);
  });

  it.each([false, true])('compares keys by value (arrays, -0 and 0), also when restarted from a checkpoint (%s)', async (checkpoint) => {
    interface Tx {
      readonly card: string;
      readonly shop: number;
      readonly t: number;
    }
    const build = (s: DStream<Tx>) =>
      s.pipe(
        withWatermark((e: Tx) => e.t, 0),
        mapToPair((e: Tx) => [[e.card, e.shop] as const, e]),
        eventTimeWindow(tumbling(10), agg.count()),
      );
    const input: Tx[][] = [[{ card: 'c1', shop: 0, t: 1 }, { card: 'c1', shop: -0, t: 2 }, { card: 'c1', shop: 1, t: 3 }], [{ card: 'c1', shop: 0, t: 5 }, { card: 'c2', shop: 0, t: 12 }], [{ card: 'c2', shop: 0, t: 25 }], []];
    const ts = await TestStream.create(build, { checkpoint, numPartitions: 1 });
    try {
      ts.addBatch(input[0]!);
      await ts.runBatch();
      if (checkpoint) await ts.crashAndRestart({ at: 'afterCommit' });
      for (const batch of input.slice(1)) {
        ts.addBatch(batch);
        await ts.runBatch();
      }
      const results = ts.outputs.flatMap((o) => o.records.map((r) => [r.key, r.window.start, r.value]));
      expect(results).toEqual(expect.arrayContaining([[['c1', 0], 0, 3], [['c1', 1], 0, 1], [['c2', 0], 10, 1]]));
      expect(results).toHaveLength(3);
    } finally {
      await ts.close();
    }
  });

  it('needs a watermark upstream and a finite event time', async () => {
    const ctx = new StreamingContext({ batchInterval: 1000, clock: new ManualClock() });
    expect(() => ctx.queueStream<Ev>().pipe(keyBy((e: Ev) => e.key), eventTimeWindow(tumbling(10), agg.count()))).toThrow(/withWatermark/);
    await expect(runBatches([[ev('a', Number.NaN)]], counts())).rejects.toMatchObject({ code: 'USER_FUNCTION_FAILED' });
    expect(() => eventTimeWindow(tumbling(10), agg.count(), { outputMode: 'sometimes' as 'append' })).toThrow(TypeError);
  });
});

describe('eventTimeWindow: the order of results', () => {
  const many = (t: number): Ev[] => Array.from({ length: 60 }, (_, i) => ev(`user-${(i * 37) % 60}`, t + (i % 7)));
  const input = [many(0), many(10), many(20), many(30)];

  it('windows closing in one batch come by end, then start, then in a defined key order (a hash), not in arrival order', async () => {
    const out = await runBatches(input, counts(), { numPartitions: 1 });
    const closed = out.flat();
    for (let i = 1; i < closed.length; i++) {
      const [a, b] = [closed[i - 1]!, closed[i]!];
      expect(a.window.end < b.window.end || (a.window.end === b.window.end && a.window.start <= b.window.start)).toBe(true);
    }
    const keys = out[2]!.map((r) => r.key); // [0, 10) closes at batch 2 (watermark 16 from batch 1)
    expect(new Set(keys).size).toBe(60);
    expect(keys).not.toEqual(input[0]!.map((e) => e.key));
  });

  it.each(['afterPlan', 'beforeCommit', 'afterCommit'] as const)('is the same after a crash at %s and a restart (the live windows are rebuilt from the store)', async (at) => {
    const straight = await runBatches(input, counts(), { numPartitions: 1 });
    const ts = await TestStream.create(counts(), { checkpoint: true, numPartitions: 1 });
    try {
      ts.addBatch(input[0]!);
      await ts.runBatch();
      ts.addBatch(input[1]!);
      await ts.runBatch();
      ts.addBatch(input[2]!);
      await ts.crashAndRestart({ at });
      ts.addBatch(input[3]!);
      await ts.runBatch();
      expect(ts.outputs.map((o) => o.records.map((r) => [r.key, r.window.start, r.value]))).toEqual(straight.map((b) => b.map((r) => [r.key, r.window.start, r.value])));
    } finally {
      await ts.close();
    }
  });
});
