import { describe, expect, expectTypeOf, it } from 'vitest';
import { foreachBatch, keyBy, ManualClock, StreamingContext, type DStream } from 'sluice';
import { agg, calendar, eventTimeWindow, isRetraction, session, sliding, tumbling, withWatermark, type EventTimeWindowOptions, type OutputMode, type WindowAssigner, type WindowOutput, type WindowResult, type WindowRetraction } from 'sluice/windows';
import { runBatches, TestStream } from 'sluice/testing';

/*
 * The output modes step by step: input per batch, the watermark each batch uses (the largest
 * event time of the batches before, minus the delay), and the expected output per batch. A row
 * is [key, start, end, value], or [key, start, end, 'retracted'] for a retraction.
 */

interface Ev {
  readonly key: string;
  readonly t: number;
}
const ev = (key: string, t: number): Ev => ({ key, t });
type Row = [string, number, number, unknown];
const rowOf = (r: WindowOutput<string, unknown>): Row => [r.key, r.window.start, r.window.end, isRetraction(r) ? 'retracted' : r.value];
const rows = (out: readonly (readonly WindowOutput<string, unknown>[])[]): Row[][] => out.map((batch) => batch.map(rowOf));

const windowed =
  (assigner: WindowAssigner, options: EventTimeWindowOptions<Ev>, delay = 0) =>
  (s: DStream<Ev>): DStream<WindowOutput<string, number>> =>
    s.pipe(withWatermark((e: Ev) => e.t, delay), keyBy((e: Ev) => e.key), eventTimeWindow(assigner, agg.count(), options));

describe('session windows: the late rule agrees with the close rule', () => {
  it('keeps a lone record whose session ends exactly at watermark - lateness (still open), and drops one that ends before', async () => {
    const clock = new ManualClock();
    const ctx = new StreamingContext({ batchInterval: 1000, clock, defaultParallelism: 1 });
    const dropped: number[] = [];
    ctx.addListener((e) => {
      if (e.type === 'batchCompleted') dropped.push(e.progress.lateRecordsDropped);
    });
    const out: Row[][] = [];
    // gap 10, lateness 5. Batch 1 uses watermark 30, so closedUpTo = 25: [15, 25) is open (25 + 5 = 30
    // is not before 30), [14, 24) closed. Batches 2 and 3 use 30 too: [15, 25) stays open; batch 4 uses 100.
    ctx
      .queueStream([[ev('x', 30)], [ev('a', 15), ev('b', 14)], [], [ev('x', 100)], []])
      .pipe(withWatermark((e: Ev) => e.t, 0), keyBy((e: Ev) => e.key), eventTimeWindow(session(10), agg.count(), { allowedLateness: 5 }))
      .pipe(foreachBatch((r) => void out.push(r.map(rowOf))));
    await ctx.start();
    await clock.advance(5000);
    await ctx.stop();
    expect(dropped).toEqual([0, 1, 0, 0, 0]);
    expect(out).toEqual([[], [], [], [], [['a', 15, 25, 1], ['x', 30, 40, 1]]]);
  });

  it('never drops a record that bridges an open session, nor one that meets a session the same batch opened', async () => {
    // Watermark 50 before batch 1. a@45 opens [45, 55) (open); a@38 ([38, 48) closed on its own)
    // meets it; a@30 meets a@38. b@41 meets b's open session [48, 58). c@20 meets nothing: late.
    const out = await runBatches([[ev('b', 48), ev('x', 50)], [ev('a', 30), ev('a', 38), ev('c', 20), ev('a', 45), ev('b', 41)], [ev('x', 200)]], windowed(session(10), { late: 'sideOutput' }), {
      numPartitions: 2,
      numBatches: 4,
    });
    expect(rows(out)[3]?.filter((r) => r[0] !== 'x')).toEqual([['a', 30, 55, 3], ['b', 41, 58, 2]]);
  });
});

describe("complete mode keeps the whole result table (Spark's rule)", () => {
  it('never evicts a window, adds late records to their windows, and emits every window each batch', async () => {
    // Watermarks: -, 12, 25, 25. a@3 in batch 2 is behind the watermark: it still counts.
    const input = [[ev('a', 1), ev('b', 12)], [ev('a', 25)], [ev('a', 3)], []];
    const out = await runBatches(input, windowed(tumbling(10), { outputMode: 'complete' }), { numPartitions: 1 });
    expect(rows(out)).toEqual([
      [['a', 0, 10, 1], ['b', 10, 20, 1]],
      [['a', 0, 10, 1], ['b', 10, 20, 1], ['a', 20, 30, 1]],
      [['a', 0, 10, 2], ['b', 10, 20, 1], ['a', 20, 30, 1]],
      [['a', 0, 10, 2], ['b', 10, 20, 1], ['a', 20, 30, 1]],
    ]);
  });

  it('keeps session windows too: a record far behind the watermark still merges', async () => {
    const input = [[ev('a', 0)], [ev('a', 100)], [ev('a', 8)]];
    const out = await runBatches(input, windowed(session(10), { outputMode: 'complete' }), { numPartitions: 1 });
    expect(rows(out)).toEqual([[['a', 0, 10, 1]], [['a', 0, 10, 1], ['a', 100, 110, 1]], [['a', 0, 18, 2], ['a', 100, 110, 1]]]);
  });

  it.each(['afterPlan', 'beforeCommit', 'afterCommit'] as const)('keeps the table across a restart from a checkpoint (crash %s)', async (at) => {
    const input = [[ev('a', 1), ev('b', 12)], [ev('a', 25)], [ev('a', 3)], []];
    const straight = rows(await runBatches(input, windowed(sliding(10, 5), { outputMode: 'complete' }), { numPartitions: 1 }));
    const ts = await TestStream.create(windowed(sliding(10, 5), { outputMode: 'complete' }), { checkpoint: true, numPartitions: 1 });
    try {
      ts.addBatch(input[0]!);
      await ts.runBatch();
      ts.addBatch(input[1]!);
      await ts.crashAndRestart({ at });
      for (const batch of input.slice(2)) {
        ts.addBatch(batch);
        await ts.runBatch();
      }
      expect(ts.outputs.map((o) => o.records.map(rowOf))).toEqual(straight);
      // Nothing evicted: every window of a@1, b@12, a@25 and a@3 is still there.
      expect(straight.at(-1)).toHaveLength(6);
    } finally {
      await ts.close();
    }
  });

  it('refuses allowedLateness and a late side output, which have nothing to act on', () => {
    expect(() => eventTimeWindow(tumbling(10), agg.count(), { outputMode: 'complete', allowedLateness: 5 })).toThrow(/allowedLateness has no effect; remove it, or use outputMode 'update'/);
    expect(() => eventTimeWindow(tumbling(10), agg.count(), { outputMode: 'complete', late: 'sideOutput' })).toThrow(TypeError);
    expect(() => eventTimeWindow(tumbling(10), agg.count(), { outputMode: 'sometimes' as 'append' })).toThrow(/'append', 'update', 'onTimeAndLate' or 'complete'/);
  });
});

describe('update mode: session windows retract the sessions a record merged away or extended', () => {
  // A watermark delay of 100 keeps every session of these inputs open.
  const updates = (input: Ev[][]) => runBatches(input, windowed(session(10), { outputMode: 'update' }, 100), { numPartitions: 1 }).then(rows);

  it('retracts both sessions a record bridges, before the merged result, by window end', async () => {
    expect(await updates([[ev('a', 0), ev('a', 20)], [ev('a', 10)]])).toEqual([
      [['a', 0, 10, 1], ['a', 20, 30, 1]],
      [['a', 0, 10, 'retracted'], ['a', 20, 30, 'retracted'], ['a', 0, 30, 3]],
    ]);
  });

  it("retracts a session's old window when a record extends it, and nothing when a record falls inside", async () => {
    expect(await updates([[ev('a', 0)], [ev('a', 5)], [ev('a', 7)]])).toEqual([[['a', 0, 10, 1]], [['a', 0, 10, 'retracted'], ['a', 0, 15, 2]], [['a', 0, 15, 'retracted'], ['a', 0, 17, 3]]]);
    expect(await updates([[ev('a', 0), ev('a', 8)], [ev('a', 4)]])).toEqual([[['a', 0, 18, 2]], [['a', 0, 18, 3]]]);
  });

  it('does not retract a session that opened and merged in the same batch: it was never emitted', async () => {
    // Batch 0: a@0 opens [0, 10), a@5 extends it: only [0, 15) is emitted. Batch 1: a@30 opens
    // [30, 40), a@22 merges it into [22, 40): [30, 40) was never emitted; [0, 15) is untouched.
    expect(await updates([[ev('a', 0), ev('a', 5)], [ev('a', 30), ev('a', 22)]])).toEqual([[['a', 0, 15, 2]], [['a', 22, 40, 2]]]);
  });

  it('retracts after a restart from a checkpoint what was emitted before it', async () => {
    const ts = await TestStream.create(windowed(session(10), { outputMode: 'update' }, 100), { checkpoint: true, numPartitions: 1 });
    try {
      ts.addBatch([ev('a', 0)]);
      await ts.runBatch();
      ts.addBatch([ev('a', 20)]);
      await ts.crashAndRestart({ at: 'afterCommit' });
      ts.addBatch([ev('a', 6)]);
      await ts.runBatch();
      ts.addBatch([ev('a', 14)]);
      await ts.crashAndRestart({ at: 'beforeCommit' });
      expect(ts.outputs.map((o) => o.records.map(rowOf))).toEqual([
        [['a', 0, 10, 1]],
        [['a', 20, 30, 1]],
        [['a', 0, 10, 'retracted'], ['a', 0, 16, 2]],
        [['a', 0, 16, 'retracted'], ['a', 20, 30, 'retracted'], ['a', 0, 30, 4]],
      ]);
    } finally {
      await ts.close();
    }
  });

  it('types the output: retractions only where they can occur', () => {
    type Output<F extends (...args: never[]) => (stream: never) => unknown> = ReturnType<ReturnType<F>> extends DStream<infer O> ? O : never;
    const _appendSessions = () => eventTimeWindow<string, Ev, number, number>(session(10), agg.count());
    const _updateTumbling = () => eventTimeWindow<string, Ev, number, number>(tumbling(10), agg.count(), { outputMode: 'update' });
    const _updateSessions = () => eventTimeWindow<string, Ev, number, number>(session(10), agg.count(), { outputMode: 'update' });
    const _lateSessions = () => eventTimeWindow<string, Ev, number, number>(session(10), agg.count(), { outputMode: 'onTimeAndLate' });
    const _anyMode = (outputMode: OutputMode) => eventTimeWindow<string, Ev, number, number>(session(10), agg.count(), { outputMode });
    expectTypeOf<Output<typeof _appendSessions>>().toEqualTypeOf<WindowResult<string, number>>();
    expectTypeOf<Output<typeof _updateTumbling>>().toEqualTypeOf<WindowResult<string, number>>();
    expectTypeOf<Output<typeof _updateSessions>>().toEqualTypeOf<WindowOutput<string, number>>();
    expectTypeOf<Output<typeof _lateSessions>>().toEqualTypeOf<WindowOutput<string, number>>();
    expectTypeOf<Output<typeof _anyMode>>().toEqualTypeOf<WindowOutput<string, number>>();
    const r = { key: 'a', window: { start: 0, end: 10 }, retracted: true } as WindowOutput<string, number>;
    if (isRetraction(r)) expectTypeOf(r).toEqualTypeOf<WindowRetraction<string>>();
    else expectTypeOf(r.value).toEqualTypeOf<number>();
  });
});

describe('onTimeAndLate: fire when the watermark passes the end, then once per batch whose late records changed the window', () => {
  it('tumbling windows: on time, late firings, and nothing once the window has closed', async () => {
    // tumbling(10), allowed lateness 10. Watermarks: -, 5, 12, 12, 12, 22, 22.
    const input = [[ev('a', 1), ev('a', 5)], [ev('a', 12)], [ev('a', 3)], [ev('a', 4)], [ev('a', 22)], [], [ev('a', 6)]];
    const out = await runBatches(input, windowed(tumbling(10), { outputMode: 'onTimeAndLate', allowedLateness: 10, late: 'sideOutput' }), { numPartitions: 1 });
    expect(rows(out)).toEqual([
      [],
      [],
      // 12 passes [0, 10): it fires, with a@3 of this batch.
      [['a', 0, 10, 3]],
      // a@4 is late, within the lateness: a late firing.
      [['a', 0, 10, 4]],
      [],
      // 22 passes [10, 20); [0, 10) closes (10 + 10 <= 22) without firing again.
      [['a', 10, 20, 1]],
      // a@6 is late for a closed window: dropped (side output), nothing fires.
      [],
    ]);
  });

  it('sliding windows: a window that becomes due and closes in one batch fires once, when it closes', async () => {
    // sliding(10, 5), allowed lateness 5. Watermarks: -, 3, 12, 12, 20.
    const input = [[ev('a', 3)], [ev('a', 12)], [ev('a', 4)], [ev('a', 8), ev('a', 20)], []];
    const out = await runBatches(input, windowed(sliding(10, 5), { outputMode: 'onTimeAndLate', allowedLateness: 5 }), { numPartitions: 1 });
    expect(rows(out)).toEqual([
      [],
      [],
      // 12 closes [-5, 5) (5 + 5 <= 12), unfired: it fires as it closes; a@4 is too late for it.
      // [0, 10) is due and open: it fires after a@4 is added.
      [['a', -5, 5, 1], ['a', 0, 10, 2]],
      // a@8 changes [0, 10) (fired) and [5, 15) (not due): a late firing of [0, 10) only.
      [['a', 0, 10, 3]],
      // 20 closes [5, 15) unfired, and makes [10, 20) due.
      [['a', 5, 15, 2], ['a', 10, 20, 1]],
    ]);
  });

  it('equals append mode without allowed lateness', async () => {
    const input = [[ev('a', 1), ev('b', 12)], [ev('a', 15), ev('a', 3)], [], [ev('b', 25)], []];
    const build = (outputMode: 'append' | 'onTimeAndLate') => windowed(sliding(10, 5), { outputMode });
    expect(rows(await runBatches(input, build('onTimeAndLate'), { numPartitions: 1 }))).toEqual(rows(await runBatches(input, build('append'), { numPartitions: 1 })));
  });

  it('session windows: a late record that extends a fired session retracts it; the new session fires when the watermark passes it', async () => {
    // session(10), allowed lateness 20. Watermarks: -, 0, 15, 15, 25.
    const input = [[ev('a', 0)], [ev('b', 15)], [], [ev('a', 8), ev('b', 25)], []];
    const out = await runBatches(input, windowed(session(10), { outputMode: 'onTimeAndLate', allowedLateness: 20 }), { numPartitions: 1 });
    expect(rows(out)).toEqual([
      [],
      [],
      [['a', 0, 10, 1]],
      // [0, 18) is not passed by 15 yet: only the retraction of [0, 10).
      [['a', 0, 10, 'retracted']],
      // b's [15, 35) (b@15 and b@25) ends after 25; a's [0, 18) is passed.
      [['a', 0, 18, 2]],
    ]);
  });

  it('calendar windows fire per local day, then again for late records within the lateness', async () => {
    const day = 86_400_000;
    const t0 = Date.UTC(2024, 2, 1);
    const input = [[ev('a', t0 + 1000)], [ev('a', t0 + day + 5)], [ev('a', t0 + 2000)], [ev('a', t0 + 3 * day)], [ev('a', t0 + 3000)]];
    const out = await runBatches(input, windowed(calendar({ unit: 'day', zone: 'UTC' }), { outputMode: 'onTimeAndLate', allowedLateness: '1d' }), { numPartitions: 1 });
    expect(rows(out)).toEqual([[], [], [['a', t0, t0 + day, 2]], [], [['a', t0 + day, t0 + 2 * day, 1]]]);
  });

  it.each(['afterPlan', 'beforeCommit', 'afterCommit'] as const)('is the same after a crash at %s and a restart: what fired is derived from the stored watermark', async (at) => {
    const input = [[ev('a', 1), ev('b', 5)], [ev('a', 12)], [ev('a', 3), ev('b', 2)], [ev('a', 4)], [ev('a', 31)], []];
    const build = windowed(tumbling(10), { outputMode: 'onTimeAndLate', allowedLateness: 10 });
    const straight = rows(await runBatches(input, build, { numPartitions: 1 }));
    for (let crashBefore = 1; crashBefore < input.length; crashBefore++) {
      const ts = await TestStream.create(build, { checkpoint: true, numPartitions: 1 });
      try {
        for (const [k, batch] of input.entries()) {
          ts.addBatch(batch);
          if (k === crashBefore) await ts.crashAndRestart({ at });
          else await ts.runBatch();
        }
        expect(ts.outputs.map((o) => o.records.map(rowOf)), `crash at batch ${crashBefore}`).toEqual(straight);
      } finally {
        await ts.close();
      }
    }
    // Watermarks -, 5, 12, 12, 12, 31: [10, 20) fires in batch 5, when [0, 10) closes unfired again.
    expect(straight.slice(2)).toEqual([[['a', 0, 10, 2], ['b', 0, 10, 2]], [['a', 0, 10, 3]], [], [['a', 10, 20, 1]]]);
  });
});
