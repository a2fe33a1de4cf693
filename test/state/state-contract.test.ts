import { describe, expect, it } from 'vitest';
import { foreachBatch, ManualClock, StreamingContext, type BatchProgress, type DeadLetter, type DStream, type Pair, type SluiceError } from 'sluice';
import { mapWithState, stateSpec, type State, type StateSpec } from 'sluice/state';

/** What a call saw of its state after doing `op`. */
type Seen = readonly [key: string, op: string, exists: boolean, option: number | undefined, get: number | string];

interface Run {
  /** What the function returned, per batch. */
  readonly out: Seen[][];
  /** Every `[key, state]` after each batch. */
  readonly snapshots: Pair<string, number>[][];
  readonly dead: DeadLetter[];
  readonly progress: BatchProgress[];
  readonly error: SluiceError | undefined;
}

/** Runs one batch per input on a ManualClock (interval 1000 ms), with the spec's operator. */
async function run(input: readonly Pair<string, string>[][], spec: StateSpec<string, string, number, Seen>, batches = input.length): Promise<Run> {
  const clock = new ManualClock();
  const ctx = new StreamingContext({ batchInterval: 1000, clock, defaultParallelism: 1 });
  const out: Seen[][] = [];
  const snapshots: Pair<string, number>[][] = [];
  const dead: DeadLetter[] = [];
  const progress: BatchProgress[] = [];
  const mapped = (ctx.queueStream(input.map((b) => [...b])) as DStream<Pair<string, string>>).pipe(mapWithState(spec));
  mapped.pipe(foreachBatch((records) => void out.push([...records])));
  mapped.stateSnapshots().pipe(foreachBatch((pairs) => void snapshots.push([...pairs])));
  ctx.deadLetters.pipe(foreachBatch((letters) => void dead.push(...letters)));
  ctx.addListener((event) => {
    if (event.type === 'batchCompleted') progress.push(event.progress);
  });
  let error: SluiceError | undefined;
  const done = ctx.awaitTermination().catch((e: unknown) => {
    error = e as SluiceError;
  });
  await ctx.start();
  for (let i = 0; i < batches; i++) await clock.advance(1000);
  await ctx.stop();
  await done;
  return { out, snapshots, dead, progress, error };
}

/** What `get()` gives, or the name of what it throws. */
function tryGet(state: State<number>): number | string {
  try {
    return state.get();
  } catch (error) {
    return (error as Error).name;
  }
}

/**
 * Does what the record's value says, then reports what the state looks like:
 * `set:<n>` updates, `remove` removes, `remove+set` and `remove+remove` break a rule, `look` does nothing.
 * A timing-out call does what `timeoutOp` says.
 */
function acting(timeoutOp = 'look'): StateSpec<string, string, number, Seen> {
  return stateSpec((key: string, value: string | undefined, state: State<number>): Seen => {
    const op = value ?? `timeout:${timeoutOp}`;
    for (const step of op.replace(/^timeout:/, '').split('+')) {
      if (step === 'remove') state.remove();
      else if (step.startsWith('set')) state.update(Number(step.slice(4) || 0));
    }
    return [key, op, state.exists(), state.getOption(), tryGet(state)];
  });
}

describe('State: the rules of Spark’s State on mapWithState', () => {
  it('after remove(), exists() is false, getOption() undefined and get() throws a TypeError; the key is gone after the batch', async () => {
    const { out, snapshots } = await run([[['a', 'set:1'], ['b', 'set:2']], [['a', 'remove']], [['a', 'look']]], acting());
    expect(out).toEqual([
      [
        ['a', 'set:1', true, 1, 1],
        ['b', 'set:2', true, 2, 2],
      ],
      [['a', 'remove', false, undefined, 'TypeError']],
      [['a', 'look', false, undefined, 'TypeError']],
    ]);
    expect(snapshots).toEqual([[['a', 1], ['b', 2]], [['b', 2]], [['b', 2]]]);
  });

  it('remove() of a key with no state is allowed and leaves it without state', async () => {
    const { out, snapshots, error } = await run([[['a', 'remove']]], acting());
    expect(error).toBeUndefined();
    expect(out).toEqual([[['a', 'remove', false, undefined, 'TypeError']]]);
    expect(snapshots).toEqual([[]]);
  });

  it('update() after remove() in the same call fails the batch, saying what to do, and commits nothing', async () => {
    const { out, snapshots, error } = await run([[['a', 'set:1']], [['a', 'remove+set:5']]], acting());
    expect(error?.code).toBe('USER_FUNCTION_FAILED');
    expect(error?.batchId).toBe(1);
    expect(error?.message).toMatch(/after state\.remove\(\) in the same call: to replace the state, call only state\.update\(value\)/);
    expect((error?.cause as Error).name).toBe('TypeError');
    expect(out).toEqual([[['a', 'set:1', true, 1, 1]]]);
    expect(snapshots).toEqual([[['a', 1]]]);
  });

  it('remove() twice in the same call fails the batch', async () => {
    const { error } = await run([[['a', 'set:1']], [['a', 'remove+remove']]], acting());
    expect(error?.code).toBe('USER_FUNCTION_FAILED');
    expect(error?.batchId).toBe(1);
    expect(error?.message).toMatch(/twice in the same call: state\.remove\(\) was already called; check state\.exists\(\) first/);
  });

  it('update() then remove() in one call removes the key; remove() then a later record’s update() creates it again', async () => {
    const { out, snapshots, error } = await run(
      [
        [['a', 'set:1'], ['b', 'set:2']],
        [['a', 'set:7+remove'], ['b', 'remove'], ['b', 'set:3']],
      ],
      acting(),
    );
    expect(error).toBeUndefined();
    expect(out[1]).toEqual([
      ['a', 'set:7+remove', false, undefined, 'TypeError'],
      ['b', 'remove', false, undefined, 'TypeError'],
      ['b', 'set:3', true, 3, 3],
    ]);
    expect(snapshots[1]).toEqual([['b', 3]]);
  });

  it('while a key times out, exists() is true and get() and getOption() give its state', async () => {
    // Interval 1000, timeout 1500: 'a' last seen at 1000 times out in the batch at 3000.
    const { out, snapshots } = await run([[['a', 'set:4']], [], [], []], acting().timeout(1500));
    expect(out).toEqual([[['a', 'set:4', true, 4, 4]], [], [['a', 'timeout:look', true, 4, 4]], []]);
    expect(snapshots).toEqual([[['a', 4]], [['a', 4]], [], []]);
  });

  it.each([
    ['update', 'set:9', /Cannot update the state of a key that is timing out .*Return the final result instead/],
    ['remove', 'remove', /Cannot remove the state of a key that is timing out .*removed after this call anyway/],
  ])('%s() of a key that is timing out fails the batch of the timeout', async (_call, op, message) => {
    const { out, error } = await run([[['a', 'set:4']], [], [], []], acting(op).timeout(1500));
    expect(out).toEqual([[['a', 'set:4', true, 4, 4]], []]);
    expect(error?.code).toBe('USER_FUNCTION_FAILED');
    expect(error?.batchId).toBe(2);
    expect(error?.message).toMatch(message);
  });

  it("under onError 'skip', a call that breaks a rule is set aside and what it did to the state is undone", async () => {
    const { out, snapshots, progress, error } = await run(
      [
        [['a', 'set:1'], ['b', 'set:2']],
        [['a', 'remove+set:5'], ['b', 'remove+remove'], ['a', 'look']],
      ],
      acting().onError('skip'),
    );
    expect(error).toBeUndefined();
    expect(out[1]).toEqual([['a', 'look', true, 1, 1]]);
    expect(snapshots[1]).toEqual([['a', 1], ['b', 2]]);
    expect(progress.map((p) => p.numSkippedRecords)).toEqual([0, 2]);
  });

  it("under onError 'deadLetter', a timing-out call that breaks a rule is dead-lettered and the key is removed all the same", async () => {
    const { out, snapshots, dead, error } = await run([[['a', 'set:4']], [], [], []], acting('remove').timeout(1500).name('acts').onError('deadLetter'));
    expect(error).toBeUndefined();
    expect(out).toEqual([[['a', 'set:4', true, 4, 4]], [], [], []]);
    expect(snapshots).toEqual([[['a', 4]], [['a', 4]], [], []]);
    expect(dead).toEqual([{ operator: 'acts', batchId: 2, record: ['a', undefined], message: expect.stringMatching(/Cannot remove the state of a key that is timing out in acts/) as unknown, code: 'USER_FUNCTION_FAILED' }]);
  });

  it('the rules hold in onTimer too: remove() twice fails the batch of the timer', async () => {
    const spec = stateSpec((key: string, _v: string | undefined, state: State<number>): Seen | undefined => {
      state.update(1);
      state.setTimer(1500);
      return undefined;
    }).onTimer((key, _timer, state): Seen => {
      state.remove();
      state.remove();
      return [key, 'timer', state.exists(), state.getOption(), tryGet(state)];
    });
    const { error } = await run([[['a', 'x']], []], spec);
    expect(error?.code).toBe('USER_FUNCTION_FAILED');
    expect(error?.batchId).toBe(1);
    expect(error?.message).toMatch(/twice in the same call/);
  });

  it('remove() in onTimer removes the key: exists() is false and get() throws after it', async () => {
    const spec = stateSpec((_key: string, _v: string | undefined, state: State<number>): Seen | undefined => {
      state.update(1);
      state.setTimer(1500);
      return undefined;
    }).onTimer((key, _timer, state): Seen => {
      state.remove();
      return [key, 'timer', state.exists(), state.getOption(), tryGet(state)];
    });
    const { out, snapshots } = await run([[['a', 'x']], []], spec);
    expect(out).toEqual([[], [['a', 'timer', false, undefined, 'TypeError']]]);
    expect(snapshots).toEqual([[['a', 1]], []]);
  });
});
