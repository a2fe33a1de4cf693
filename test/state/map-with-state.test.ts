import { describe, expect, expectTypeOf, it } from 'vitest';
import { ManualClock, StreamingContext, foreachBatch, keyBy, type DStream, type Pair } from 'sluice';
import { mapWithState, queryableState, stateSpec, updateStateByKey, type QueryableState, type State } from 'sluice/state';
import { runBatches as runOnMemory, type RunBatchesOptions } from 'sluice/testing';
import { afterAll } from 'vitest';
import { BACKENDS, backendFactory, removeBackendDirs } from './backends.js';

type Out = readonly [string, string | number];

const counting = stateSpec((key: string, _value: string | undefined, state: State<number>): Out => {
  if (state.isTimingOut()) return [key, `timeout after ${state.get()}`];
  const next = (state.getOption() ?? 0) + 1;
  state.update(next);
  return [key, next];
});

const byWord = (s: DStream<string>): DStream<Pair<string, string>> => s.pipe(keyBy((w: string) => w));

afterAll(removeBackendDirs);

describe.each(BACKENDS)('mapWithState on the %s backend', (backend) => {
  const stateBackend = backendFactory(backend);
  const runBatches = <T, U>(input: readonly (readonly T[])[], build: (s: DStream<T>) => DStream<U>, options?: RunBatchesOptions): Promise<U[][]> =>
    runOnMemory(input, build, stateBackend === undefined ? options : { ...options, stateBackend });

  it('maps every record with its key state and emits what the function returns', async () => {
    const out = await runBatches([['a', 'b', 'a'], [], ['a']], (s) => byWord(s).pipe(mapWithState(counting)), { numPartitions: 1 });
    expect(out).toEqual([[['a', 1], ['a', 2], ['b', 1]], [], [['a', 3]]]);
  });

  it('emits nothing for a function that returns undefined', async () => {
    const out = await runBatches([['a', 'b']], (s) => byWord(s).pipe(mapWithState(stateSpec((_k: string, _v: string | undefined, _s: State<number>) => undefined))));
    expect(out).toEqual([[]]);
  });

  it('times a key out at the first batch time t with lastRecordTime < t - timeout, once, then removes it', async () => {
    // interval 1000, timeout 2000: 'a' last seen at 1000; 1000 < 3000 - 2000 is false, 1000 < 4000 - 2000 is true.
    const out = await runBatches([['a'], [], [], [], []], (s) => byWord(s).pipe(mapWithState(counting.timeout('2s'))), { numPartitions: 1 });
    expect(out).toEqual([[['a', 1]], [], [], [['a', 'timeout after 1']], []]);
  });

  it('a record refreshes the idle timeout even when the function does not update the state', async () => {
    const spec = stateSpec((key: string, _v: string | undefined, state: State<number>): Out | undefined => {
      if (state.isTimingOut()) return [key, 'timeout'];
      if (!state.exists()) state.update(1);
      return undefined;
    }).timeout(1500);
    const out = await runBatches([['a'], ['a'], [], [], []], (s) => byWord(s).pipe(mapWithState(spec)), { numPartitions: 1 });
    expect(out).toEqual([[], [], [], [['a', 'timeout']], []]);
  });

  it('updating a timing-out key fails the batch with a message that says why', async () => {
    const spec = stateSpec((_k: string, _v: string | undefined, state: State<number>) => {
      state.update(1);
      return undefined;
    }).timeout(500);
    await expect(runBatches([['a'], []], (s) => byWord(s).pipe(mapWithState(spec)))).rejects.toMatchObject({
      code: 'USER_FUNCTION_FAILED',
      batchId: 1,
      message: expect.stringMatching(/timing out/) as unknown,
    });
  });

  it('stateSnapshots gives every key and state after each batch, in key order', async () => {
    const clock = new ManualClock();
    const ctx = new StreamingContext({ batchInterval: 1000, clock });
    const mapped = byWord(ctx.queueStream([['b', 'a'], ['b'], []])).pipe(mapWithState(counting.timeout(1500)));
    const snapshots: unknown[] = [];
    mapped.stateSnapshots().pipe(foreachBatch((s) => void snapshots.push([...s].sort())));
    await ctx.start();
    await clock.advance(3000);
    await ctx.stop();
    expect(snapshots).toEqual([[['a', 1], ['b', 1]], [['a', 1], ['b', 2]], [['b', 2]]]);
  });

  it('fires a processing-time timer in the first batch at or after its time, with the state', async () => {
    const spec = stateSpec((key: string, _v: string | undefined, state: State<number>): Out | undefined => {
      state.update((state.getOption() ?? 0) + 1);
      state.setTimer(2500);
      return undefined;
    }).onTimer((key, timer, state) => [key, `timer ${timer.time} (${timer.domain}) count ${state.get()}`]);
    const out = await runBatches([['a'], ['a'], [], []], (s) => byWord(s).pipe(mapWithState(spec)), { numPartitions: 1 });
    expect(out).toEqual([[], [], [['a', 'timer 2500 (processing) count 2']], []]);
  });

  it('a deleted timer does not fire, and setting a timer without onTimer is an error', async () => {
    const spec = stateSpec((_k: string, v: string | undefined, state: State<number>): Out | undefined => {
      if (v === 'set') state.setTimer(1500);
      if (v === 'unset') state.deleteTimer(1500);
      return undefined;
    }).onTimer((key) => [key, 'fired']);
    const out = await runBatches([[['k', 'set']], [['k', 'unset']], []] as Pair<string, string>[][], (s) => s.pipe(mapWithState(spec)));
    expect(out.flat()).toEqual([]);
    const noTimerFunction = stateSpec((_k: string, _v: string | undefined, state: State<number>) => {
      state.setTimer(5);
      return undefined;
    });
    await expect(runBatches([['a']], (s) => byWord(s).pipe(mapWithState(noTimerFunction)))).rejects.toMatchObject({ message: expect.stringMatching(/onTimer/) as unknown });
  });

  it('a processing-time TTL removes state silently after its time since the last update', async () => {
    const out = await runBatches([['a'], [], [], ['a']], (s) => byWord(s).pipe(mapWithState(counting.ttl('1500ms'))), { numPartitions: 1 });
    expect(out).toEqual([[['a', 1]], [], [], [['a', 1]]]);
  });

  it('starts from the initial state', async () => {
    const out = await runBatches([['a', 'z']], (s) => byWord(s).pipe(mapWithState(counting.initialState([['a', 41]]))), { numPartitions: 1 });
    expect(out).toEqual([[['a', 42], ['z', 1]]]);
  });

  it('serves queryable state as of the last completed batch while a batch runs', async () => {
    const clock = new ManualClock();
    const ctx = new StreamingContext({ batchInterval: 1000, clock });
    const words = byWord(ctx.queueStream([['a', 'a'], ['a', 'b']]));
    const mapped = words.pipe(mapWithState(counting.name('counts')));
    const state = queryableState(mapped);
    expectTypeOf(state).toEqualTypeOf<QueryableState<string, number>>();
    const seenDuringBatch: unknown[] = [];
    mapped.pipe(
      foreachBatch(async () => {
        seenDuringBatch.push([await state.get('a'), await state.get('b')]);
      }),
    );
    await ctx.start();
    await clock.advance(2000);
    expect(seenDuringBatch).toEqual([
      [undefined, undefined],
      [2, undefined],
    ]);
    const all: unknown[] = [];
    for await (const entry of state.entries()) all.push(entry);
    expect(all).toEqual([['a', 3], ['b', 1]]);
    await ctx.stop();
    expect(() => queryableState(words as never)).toThrow(/queryableState: pass the stream a stateful operator returned/);
  });

  it('still serves queryable state by name (deprecated), with a TypeError for a name no operator has', async () => {
    const clock = new ManualClock();
    const ctx = new StreamingContext({ batchInterval: 1000, clock });
    byWord(ctx.queueStream([['a', 'a']])).pipe(mapWithState(counting.name('counts')), foreachBatch(() => undefined));
    await ctx.start();
    await clock.advance(1000);
    // eslint-disable-next-line @typescript-eslint/no-deprecated -- the deprecated form, tested while it lasts
    expect(await queryableState<string, number>(ctx, 'counts').get('a')).toBe(2);
    await ctx.stop();
    // eslint-disable-next-line @typescript-eslint/no-deprecated -- the deprecated form, tested while it lasts
    expect(() => queryableState(ctx, 'nope')).toThrow(/No stateful operator is named 'nope' \(there are: counts\)/);
  });

  it('refuses a second stateful operator with the same name when it is defined, with a TypeError naming the name', () => {
    const ctx = new StreamingContext({ batchInterval: 1000, clock: new ManualClock() });
    const input = byWord(ctx.queueStream<string>());
    input.pipe(mapWithState(counting.name('same')), foreachBatch(() => undefined));
    const nodes = ctx.graph.nodes.length;
    expect(() => input.pipe(mapWithState(counting.name('same')))).toThrow(TypeError);
    expect(() => input.pipe(mapWithState(counting.name('same')))).toThrow(/mapWithState: a stateful operator named 'same' already exists \(a mapWithState\); give one of them another name/);
    expect(() => input.pipe(updateStateByKey((values: string[], n: number | undefined) => (n ?? 0) + values.length, { name: 'same' }))).toThrow(/updateStateByKey: a stateful operator named 'same' already exists/);
    expect(ctx.graph.nodes).toHaveLength(nodes);
  });

  it('refuses a name that an unnamed stateful operator already has as its id', () => {
    const ctx = new StreamingContext({ batchInterval: 1000, clock: new ManualClock() });
    const input = byWord(ctx.queueStream<string>());
    input.pipe(mapWithState(counting));
    expect(() => input.pipe(mapWithState(counting.name('mapWithState#0')))).toThrow(/named 'mapWithState#0' already exists/);
  });
});
