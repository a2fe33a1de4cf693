import fc from 'fast-check';
import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it, test } from 'vitest';
import { keyBy, map, mapToPair, type DStream, type Pair } from 'sluice';
import { mapWithState, stateSpec, updateStateByKey, type State } from 'sluice/state';
import { agg, eventTimeWindow, tumbling, window, withWatermark, type WindowResult } from 'sluice/windows';
import { runBatches } from 'sluice/testing';
import { TestStream, type TestStreamCrashStep, type TestStreamOptions } from '../kit/test-stream.js';

const open: TestStream<unknown, unknown>[] = [];
afterEach(async () => {
  for (const ts of open.splice(0)) await ts.close();
});

async function create<T, U>(build: (input: DStream<T>) => DStream<U>, options?: TestStreamOptions): Promise<TestStream<T, U>> {
  const ts = await TestStream.create(build, options);
  open.push(ts as TestStream<unknown, unknown>);
  return ts;
}

const sorted = <R>(records: readonly R[]): R[] => [...records].sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));

/** A running count per word, named 'counts'. */
const counts = (words: DStream<string>): DStream<Pair<string, number>> =>
  words.pipe(
    mapToPair((w) => [w, 1]),
    updateStateByKey((ones: number[], n: number | undefined) => (n ?? 0) + ones.length, { name: 'counts' }),
  );

interface Ev {
  readonly key: string;
  readonly t: number;
}

describe('TestStream: batches, time and outputs', () => {
  it('runBatch runs the next batch on every record added since the last one and returns what the stream produced', async () => {
    const ts = await create((s: DStream<string>) => s.pipe(map((w) => w.toUpperCase())));
    ts.addBatch(['a', 'b']).addBatch(['c']);
    expect(await ts.runBatch()).toEqual(['A', 'B', 'C']);
    expect(await ts.runBatch()).toEqual([]);
    ts.addBatch(['d']);
    expect(await ts.runBatch()).toEqual(['D']);
    expect(ts.time).toBe(3000);
    expect(ts.outputs).toEqual([
      { batchId: 0, batchTime: 1000, records: ['A', 'B', 'C'] },
      { batchId: 1, batchTime: 2000, records: [] },
      { batchId: 2, batchTime: 3000, records: ['D'] },
    ]);
  });

  it('advance moves processing time and runs every batch that became due, returning their output batches', async () => {
    const ts = await create((s: DStream<number>) => s.pipe(map((n) => n * 10)), { batchInterval: '500ms', startTime: 10_000 });
    ts.addBatch([1, 2]);
    expect(await ts.advance(400)).toEqual([]);
    expect(await ts.advance('700ms')).toEqual([
      { batchId: 0, batchTime: 10_500, records: [10, 20] },
      { batchId: 1, batchTime: 11_000, records: [] },
    ]);
    expect(ts.time).toBe(11_100);
    ts.addBatch([3]);
    expect(await ts.runBatch()).toEqual([30]);
    expect(ts.time).toBe(11_500);
  });

  it('a batch in which the stream produces no batch (a window between slides) has no output batch', async () => {
    const ts = await create((s: DStream<string>) => s.pipe(window(2000, 2000)));
    ts.addBatch(['a']);
    expect(await ts.runBatch()).toEqual([]);
    ts.addBatch(['b']);
    expect(await ts.runBatch()).toEqual(['a', 'b']);
    expect(ts.outputs.map((o) => o.batchId)).toEqual([1]);
  });

  it('progress and events report every batch, and configure sees the context before it starts', async () => {
    const configured: string[] = [];
    const ts = await create((s: DStream<string>) => s, { configure: (ctx) => void configured.push(ctx.state) });
    ts.addBatch(['a', 'b']);
    await ts.runBatch();
    await ts.runBatch();
    expect(configured).toEqual(['initialized']);
    expect(ts.progress.map((p) => [p.batchId, p.numInputRecords, p.sources[0]?.source])).toEqual([[0, 2, 'input'], [1, 0, 'input']]);
    expect(ts.events.map((e) => e.type)).toEqual(['contextStarted', 'batchStarted', 'batchCompleted', 'batchStarted', 'batchCompleted']);
  });

  it('a failed batch rejects runBatch with its SluiceError and stops the stream', async () => {
    const ts = await create((s: DStream<number>) => s.pipe(map((n) => {
      if (n < 0) throw new Error('negative');
      return n;
    })));
    ts.addBatch([-1]);
    await expect(ts.runBatch()).rejects.toMatchObject({ code: 'USER_FUNCTION_FAILED', batchId: 0 });
    await expect(ts.runBatch()).rejects.toThrow(/stopped after a failed batch; create a new TestStream/);
    await expect(ts.crashAndRestart()).rejects.toThrow(/checkpoint: true/);
  });

  it('close stops the stream, removes its checkpoint directory and may be called twice', async () => {
    const ts = await TestStream.create((s: DStream<string>) => s, { checkpoint: true });
    const directory = ts.context.checkpoint!.location;
    expect(existsSync(directory)).toBe(true);
    await ts.close();
    await ts.close();
    expect(existsSync(directory)).toBe(false);
    expect(() => ts.addBatch(['a'])).toThrow(/closed/);
  });
});

describe('TestStream: state, timers and the watermark', () => {
  it('state reads an operator\'s entries as of the last completed batch, in key order', async () => {
    const ts = await create(counts);
    ts.addBatch(['b', 'a', 'b']);
    await ts.runBatch();
    expect(await ts.state('counts')).toEqual([['a', 1], ['b', 2]]);
    await expect(ts.state('nope')).rejects.toThrow(/No stateful operator is named 'nope'/);
  });

  it('timers lists the pending timers of a mapWithState operator until they fire', async () => {
    const spec = stateSpec((key: string, e: Ev | undefined, state: State<number>): unknown[] | undefined => {
      state.update(e!.t);
      state.setTimer(3000);
      state.setTimer(e!.t, 'event');
      return undefined;
    })
      .onTimer((key, timer) => [key, timer.domain, timer.time])
      .name('alarms');
    const ts = await create((s: DStream<Ev>) => s.pipe(withWatermark((e) => e.t, '1h'), keyBy((e) => e.key), mapWithState(spec)));
    ts.addBatch([{ key: 'a', t: 50 }, { key: 'b', t: 70 }]);
    expect(await ts.runBatch()).toEqual([]);
    expect(await ts.timers('alarms')).toEqual([
      { key: 'a', time: 50, domain: 'event' },
      { key: 'b', time: 70, domain: 'event' },
      { key: 'a', time: 3000, domain: 'processing' },
      { key: 'b', time: 3000, domain: 'processing' },
    ]);
    ts.setWatermark(60);
    expect(await ts.runBatch()).toEqual([['a', 'event', 50]]);
    expect(sorted(await ts.runBatch())).toEqual([['a', 'processing', 3000], ['b', 'processing', 3000]]);
    expect(await ts.timers('alarms')).toEqual([{ key: 'b', time: 70, domain: 'event' }]);
    await expect(ts.timers('counts')).rejects.toThrow(TypeError);
  });

  it('setWatermark and advanceWatermark set the watermark the next batch uses, never lowering it', async () => {
    const ts = await create((s: DStream<Ev>) =>
      s.pipe(
        withWatermark((e) => e.t, '1h'),
        keyBy((e) => e.key),
        eventTimeWindow(tumbling(10), agg.count()),
        map((r: WindowResult<string, number>) => [r.key, r.window.start, r.value]),
      ),
    );
    expect(ts.watermark).toBeUndefined();
    ts.addBatch([{ key: 'a', t: 1 }, { key: 'a', t: 5 }, { key: 'b', t: 12 }]);
    expect(await ts.runBatch()).toEqual([]);
    expect(ts.watermark).toBe(12 - 3_600_000);
    ts.setWatermark(10);
    expect(ts.watermark).toBe(10);
    expect(await ts.runBatch()).toEqual([['a', 0, 2]]);
    expect(ts.progress.at(-1)?.watermark).toBe(10);
    ts.advanceWatermark('10ms');
    ts.setWatermark(5);
    expect(ts.watermark).toBe(20);
    ts.addBatch([{ key: 'a', t: 3 }]);
    expect(await ts.runBatch()).toEqual([['b', 10, 1]]);
    expect(ts.progress.at(-1)).toMatchObject({ watermark: 20, lateRecordsDropped: 1 });
  });

  it('setWatermark needs a watermarked stream, and advanceWatermark a watermark to start from', async () => {
    const plain = await create((s: DStream<Ev>) => s);
    expect(() => {
      plain.setWatermark(10);
    }).toThrow(/apply withWatermark/);
    const marked = await create((s: DStream<Ev>) => s.pipe(withWatermark((e) => e.t, 0)));
    expect(() => {
      marked.advanceWatermark(10);
    }).toThrow(/no watermark yet/);
    expect(() => {
      marked.setWatermark(Number.NaN);
    }).toThrow(RangeError);
  });
});

// The example of docs/testing-your-operators.md (test/examples/testing-docs.test.ts checks it is the same).
test('a crash before the commit replays the batch: the state counts each record once', async () => {
  const ts = await TestStream.create(
    (words: DStream<string>) =>
      words.pipe(
        mapToPair((w) => [w, 1]),
        updateStateByKey((ones: number[], n: number | undefined) => (n ?? 0) + ones.length, { name: 'counts' }),
      ),
    { checkpoint: true },
  );
  try {
    ts.addBatch(['a', 'b']);
    await ts.runBatch();
    ts.addBatch(['a']);
    // Batch 1 writes its outputs, fails before its commit, and the restart replays it.
    expect(await ts.crashAndRestart({ at: 'beforeCommit' })).toContainEqual(['a', 2]);
    expect(await ts.state('counts')).toEqual([['a', 2], ['b', 1]]);
    expect(ts.outputs.map((o) => o.batchId)).toEqual([0, 1]);
  } finally {
    await ts.close();
  }
});

describe('TestStream: crashAndRestart', () => {
  const POINTS: readonly TestStreamCrashStep[] = ['afterPlan', 'beforeCommit', 'afterCommit'];

  it.each(POINTS)('a crash at %s keeps the state and produces each batch\'s output once, as a run that never crashed', async (at) => {
    const input = [['a', 'b'], ['a', 'c'], ['b']];
    const straight = await runBatches(input, counts);
    const ts = await create(counts, { checkpoint: true });
    ts.addBatch(input[0]!);
    await ts.runBatch();
    ts.addBatch(input[1]!);
    expect(sorted(await ts.crashAndRestart({ at }))).toEqual(sorted(straight[1]!));
    ts.addBatch(input[2]!);
    await ts.runBatch();
    expect(ts.outputs.map((o) => [o.batchId, sorted(o.records)])).toEqual(straight.map((records, i) => [i, sorted(records)]));
    expect(await ts.state('counts')).toEqual([['a', 2], ['b', 2], ['c', 1]]);
    // The crashed batch ran again unless its commit was written.
    const started = ts.events.flatMap((e) => (e.type === 'batchStarted' ? [e.batchId] : []));
    expect(started).toEqual(at === 'afterCommit' ? [0, 1, 2] : [0, 1, 1, 2]);
  });

  it('without a crash point it restarts between batches; after a failed batch it recovers the batch', async () => {
    let failOnce = true;
    const configured: number[] = [];
    const ts = await create(
      (s: DStream<string>) =>
        counts(s.pipe(map((w) => {
          if (w === 'boom' && failOnce) {
            failOnce = false;
            throw new Error('a transient failure');
          }
          return w;
        }))),
      { checkpoint: true, configure: () => void configured.push(configured.length) },
    );
    ts.addBatch(['a']);
    await ts.runBatch();
    expect(await ts.crashAndRestart()).toEqual([]);
    expect(await ts.state('counts')).toEqual([['a', 1]]);
    ts.addBatch(['boom']);
    await expect(ts.runBatch()).rejects.toMatchObject({ code: 'USER_FUNCTION_FAILED', batchId: 1 });
    ts.addBatch(['a']);
    expect(sorted(await ts.crashAndRestart())).toEqual([['a', 1], ['boom', 1]]);
    expect(sorted(await ts.runBatch())).toEqual([['a', 2], ['boom', 1]]);
    expect(configured).toEqual([0, 1, 2]);
  });

  it('timers and a watermark set by the test survive a restart that replays the batch using them', async () => {
    const spec = stateSpec((key: string, e: Ev | undefined, state: State<number>): unknown[] | undefined => {
      state.setTimer(e!.t, 'event');
      return undefined;
    })
      .onTimer((key, timer) => [key, timer.time])
      .name('alarms');
    const ts = await create((s: DStream<Ev>) => s.pipe(withWatermark((e) => e.t, '1h'), keyBy((e) => e.key), mapWithState(spec)), { checkpoint: true });
    ts.addBatch([{ key: 'a', t: 50 }, { key: 'b', t: 70 }]);
    await ts.runBatch();
    ts.setWatermark(60);
    expect(await ts.crashAndRestart({ at: 'beforeCommit' })).toEqual([['a', 50]]);
    expect(ts.watermark).toBe(60);
    expect(await ts.timers('alarms')).toEqual([{ key: 'b', time: 70, domain: 'event' }]);
    ts.advanceWatermark(10);
    expect(await ts.runBatch()).toEqual([['b', 70]]);
  });

  it('rejects an unknown crash point with a TypeError', async () => {
    const ts = await create((s: DStream<string>) => s, { checkpoint: true });
    await expect(ts.crashAndRestart({ at: 'midway' as TestStreamCrashStep })).rejects.toThrow(/at must be one of afterPlan, beforeCommit, afterCommit/);
  });

  it('law: a crash at any step of any batch, then a restart, gives the outputs and state of a run that never crashed', async () => {
    const batches = fc.array(fc.array(fc.constantFrom('a', 'b', 'c'), { maxLength: 4 }), { minLength: 1, maxLength: 5 });
    await fc.assert(
      fc.asyncProperty(batches, fc.nat(), fc.constantFrom(...POINTS), async (input, seed, at) => {
        const straight = await runBatches(input, counts);
        const crashed = seed % input.length;
        const ts = await TestStream.create(counts, { checkpoint: true });
        try {
          for (const [i, records] of input.entries()) {
            ts.addBatch(records);
            if (i === crashed) await ts.crashAndRestart({ at });
            else await ts.runBatch();
          }
          expect(ts.outputs.map((o) => sorted(o.records))).toEqual(straight.map(sorted));
          expect(await ts.state('counts')).toEqual(sorted(straight.at(-1)!));
        } finally {
          await ts.close();
        }
      }),
      { numRuns: 20 },
    );
  });
});
