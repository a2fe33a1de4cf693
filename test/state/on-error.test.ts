import { describe, expect, it } from 'vitest';
import { foreachBatch, keyBy, ManualClock, mapToPair, StreamingContext, type SluiceError, type BatchProgress, type DeadLetter, type DStream, type Pair } from 'sluice';
import { mapWithState, stateSpec, updateStateByKey, type State } from 'sluice/state';
import { agg, eventTimeWindow, tumbling, withWatermark } from 'sluice/windows';
import { TestStream, type TestStreamCrashStep } from 'sluice/testing';

interface Run<U> {
  readonly out: U[][];
  readonly dead: DeadLetter[];
  readonly progress: BatchProgress[];
  readonly error: unknown;
}

async function run<T, U>(input: readonly T[][], build: (s: DStream<T>) => DStream<U>): Promise<Run<U>> {
  const clock = new ManualClock();
  const ctx = new StreamingContext({ batchInterval: 1000, clock, defaultParallelism: 2 });
  const out: U[][] = [];
  const dead: DeadLetter[] = [];
  const progress: BatchProgress[] = [];
  build(ctx.queueStream(input.map((batch) => [...batch]))).pipe(foreachBatch((records) => void out.push([...records])));
  ctx.deadLetters.pipe(foreachBatch((letters) => void dead.push(...letters)));
  ctx.addListener((event) => {
    if (event.type === 'batchCompleted') progress.push(event.progress);
  });
  let error: unknown;
  const done = ctx.awaitTermination().catch((e: unknown) => {
    error = e;
  });
  await ctx.start();
  for (let i = 0; i < input.length; i++) await clock.advance(1000);
  await ctx.stop();
  await done;
  return { out, dead, progress, error };
}

/** A running count per key that cannot count the key 'bad'. */
const countButBad = (values: number[], state: number | undefined, { key }: { readonly key: string }): number => {
  if (key === 'bad' && values.length > 0) throw new Error(`cannot count ${key}`);
  return (state ?? 0) + values.length;
};
const words = (s: DStream<string>): DStream<Pair<string, number>> => s.pipe(mapToPair((w: string) => [w, 1] as const));

describe('onError on updateStateByKey', () => {
  const input = [['a', 'bad', 'a'], ['bad', 'b'], ['a']];

  it("'fail' (the default) fails the batch naming the operator", async () => {
    const { error } = await run(input, (s) => words(s).pipe(updateStateByKey(countButBad, { name: 'counts' })));
    expect((error as SluiceError).code).toBe('USER_FUNCTION_FAILED');
    expect((error as SluiceError).message).toMatch(/^Operator counts threw in batch 0 .*cannot count bad/);
  });

  it("'skip' leaves the key as it was and counts it", async () => {
    const { out, progress } = await run(input, (s) => words(s).pipe(updateStateByKey(countButBad, { name: 'counts', onError: 'skip' })));
    expect(out.map((batch) => [...batch].sort())).toEqual([[['a', 2]], [['a', 2], ['b', 1]], [['a', 3], ['b', 1]]]);
    expect(progress.map((p) => p.numSkippedRecords)).toEqual([1, 1, 0]);
    expect(progress[0]?.operators.find((o) => o.operator === 'counts')).toMatchObject({ skippedRecords: 1, deadLetteredRecords: 0, stateRows: 1 });
  });

  it("'deadLetter' sends [key, values] of the key it could not update", async () => {
    const { dead } = await run(input, (s) => words(s).pipe(updateStateByKey(countButBad, { name: 'counts', onError: 'deadLetter' })));
    expect(dead).toEqual([
      { operator: 'counts', batchId: 0, record: ['bad', [1]], message: 'cannot count bad', code: 'USER_FUNCTION_FAILED' },
      { operator: 'counts', batchId: 1, record: ['bad', [1]], message: 'cannot count bad', code: 'USER_FUNCTION_FAILED' },
    ]);
  });

  it('a key that had state keeps it when its update is set aside, and a state that cannot be stored is set aside too', async () => {
    const toFunction = (values: number[], state: unknown): unknown => (values.length > 1 ? () => state : ((state as number | undefined) ?? 0) + values.length);
    const { out, dead } = await run([['a'], ['a', 'a']], (s) => words(s).pipe(updateStateByKey(toFunction, { onError: 'deadLetter' })));
    expect(out).toEqual([[['a', 1]], [['a', 1]]]);
    expect(dead.map((d) => d.record)).toEqual([['a', [1, 1]]]);
  });

  it("a key that is not a key follows the operator's policy", async () => {
    const { out, dead } = await run([[1, 2]], (s) => s.pipe(mapToPair((n: number) => [n === 2 ? { n } : n, n] as unknown as [number, number]), updateStateByKey((v: number[], st: number | undefined) => (st ?? 0) + v.length, { onError: 'deadLetter' })));
    expect(out).toEqual([[[1, 1]]]);
    expect(dead.map((d) => [d.record, d.message])).toEqual([[[{ n: 2 }, 2], expect.stringMatching(/Key object .* is not allowed/)]]);
  });
});

describe('onError on mapWithState', () => {
  /** Keeps a running sum; throws on a negative value after having updated the state (the update is undone). */
  const sum = stateSpec((key: string, value: number | undefined, state: State<number>) => {
    const next = (state.getOption() ?? 0) + (value ?? 0);
    state.update(next);
    if ((value ?? 0) < 0) throw new RangeError(`negative ${value}`);
    return [key, next] as const;
  });

  it("'skip' drops the record and undoes what the call did to the state", async () => {
    const { out, progress } = await run([[['a', 1], ['a', -5], ['a', 2]], [['a', 3]]] as [string, number][][], (s) => s.pipe(mapWithState(sum.onError('skip'))));
    expect(out).toEqual([[['a', 1], ['a', 3]], [['a', 6]]]);
    expect(progress.map((p) => p.numSkippedRecords)).toEqual([1, 0]);
  });

  it("'deadLetter' sends the [key, value] record; 'fail' fails the batch", async () => {
    const dl = await run([[['a', -1], ['b', 1]]] as [string, number][][], (s) => s.pipe(mapWithState(sum.name('sums').onError('deadLetter'))));
    expect(dl.out).toEqual([[['b', 1]]]);
    expect(dl.dead).toEqual([{ operator: 'sums', batchId: 0, record: ['a', -1], message: 'negative -1', code: 'USER_FUNCTION_FAILED' }]);
    const failed = await run([[['a', -1]]] as [string, number][][], (s) => s.pipe(mapWithState(sum)));
    expect((failed.error as SluiceError).code).toBe('USER_FUNCTION_FAILED');
  });

  it('refuses a bad policy at once', () => {
    expect(() => sum.onError('never' as 'skip')).toThrow(TypeError);
  });
});

describe('onError on event-time operators', () => {
  interface Ev {
    readonly key: unknown;
    readonly t: number;
  }
  const events: Ev[][] = [
    [
      { key: 'a', t: 1 },
      { key: 'a', t: Number.NaN },
      { key: { bad: true }, t: 2 },
      { key: 'b', t: 3 },
    ],
    [{ key: 'a', t: 25 }],
    [],
  ];

  it("withWatermark with 'deadLetter' leaves out a record whose event time is not a finite number", async () => {
    const { out, dead } = await run(events, (s) => s.pipe(withWatermark((e: Ev) => e.t, 0, { onError: 'deadLetter', name: 'times' })));
    expect(out.map((batch) => batch.length)).toEqual([3, 1, 0]);
    expect(dead).toEqual([{ operator: 'times', batchId: 0, record: { key: 'a', t: Number.NaN }, message: expect.stringContaining('finite number of ms, got NaN') as string, code: 'USER_FUNCTION_FAILED' }]);
  });

  it("eventTimeWindow with 'skip' drops a record with a bad event time or a key that is not a key, before it touches a window", async () => {
    const { out, progress } = await run(events, (s) =>
      s.pipe(
        withWatermark((e: Ev) => (Number.isNaN(e.t) ? 0 : e.t), 0),
        keyBy((e: Ev) => e.key as string),
        eventTimeWindow(tumbling(10), agg.count(), { eventTime: (e: Ev) => e.t, onError: 'skip', name: 'counts' }),
      ),
    );
    // The watermark of batch 2 (25, from batch 1) closes [0, 10): a 1 (not 2), b 1, no window for the bad key.
    expect(out[2]).toEqual([
      { key: 'a', window: { start: 0, end: 10 }, value: 1 },
      { key: 'b', window: { start: 0, end: 10 }, value: 1 },
    ]);
    expect(progress[0]?.operators.find((o) => o.operator === 'counts')).toMatchObject({ skippedRecords: 2 });
  });

  it("eventTimeWindow with 'fail' fails on the bad event time", async () => {
    const { error } = await run(events, (s) =>
      s.pipe(withWatermark((e: Ev) => (Number.isNaN(e.t) ? 0 : e.t), 0), keyBy((e: Ev) => String(e.key)), eventTimeWindow(tumbling(10), agg.count(), { eventTime: (e: Ev) => e.t })),
    );
    expect((error as SluiceError).code).toBe('USER_FUNCTION_FAILED');
    expect((error as SluiceError).message).toMatch(/eventTimeWindow#\d+ \(defined at test\/state\/on-error\.test\.ts:\d+:\d+\) threw.*got NaN/);
  });
});

describe('onError across a crash and restart', () => {
  const batches = [['a', 'bad', 'b'], ['bad', 'a', 'c'], ['c', 'bad'], ['a']];

  /** Runs every batch, crashing at `at` in batch `crashBatch` when given; returns the dead letters by batch, the skipped counts and the final state. */
  async function runWithCrash(crash?: { readonly at: TestStreamCrashStep; readonly batch: number }): Promise<{ dead: Map<number, DeadLetter[]>; counted: Map<number, number>; state: Pair<string, number>[] }> {
    const dead = new Map<number, DeadLetter[]>();
    const ts = await TestStream.create((s: DStream<string>) => words(s).pipe(updateStateByKey(countButBad, { name: 'counts', onError: 'deadLetter' })), {
      checkpoint: true,
      configure: (ctx) => {
        // Keyed by batch id: a replayed batch writes its dead letters again, over the first ones.
        ctx.deadLetters.pipe(foreachBatch((letters, { batchId }) => void dead.set(batchId, [...letters])));
      },
    });
    try {
      for (const [i, batch] of batches.entries()) {
        ts.addBatch(batch);
        if (crash?.batch === i) await ts.crashAndRestart({ at: crash.at });
        else await ts.runBatch();
      }
      const counted = new Map(ts.progress.map((p) => [p.batchId, p.numDeadLetteredRecords]));
      return { dead, counted, state: await ts.state<string, number>('counts') };
    } finally {
      await ts.close();
    }
  }

  it.each(['afterPlan', 'beforeCommit', 'afterCommit', 'betweenCommitted'] as const)('dead-letters the same records, no more, no fewer, after a crash at %s', async (at) => {
    const expected = await runWithCrash();
    expect([...expected.dead.values()].flat().map((d) => [d.batchId, d.record])).toEqual([
      [0, ['bad', [1]]],
      [1, ['bad', [1]]],
      [2, ['bad', [1]]],
    ]);
    for (const batch of [0, 1]) {
      const crashed = await runWithCrash({ at, batch });
      expect(crashed.dead).toEqual(expected.dead);
      // Every progress event counts its batch's dead letters (a batch that crashed after its commit has none).
      for (const [batchId, n] of crashed.counted) expect(n).toBe(expected.dead.get(batchId)?.length ?? 0);
      expect(crashed.counted.size).toBeGreaterThanOrEqual(at === 'afterCommit' || at === 'betweenCommitted' ? batches.length - 1 : batches.length);
      expect(crashed.state).toEqual(expected.state);
    }
  });
});
