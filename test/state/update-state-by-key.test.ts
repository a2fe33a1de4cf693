import { describe, expect, it } from 'vitest';
import { ManualClock, mapToPair, StreamingContext, foreachBatch, type DStream, type Key, type Pair } from 'sluice';
import { queryableState, updateStateByKey } from 'sluice/state';
import { runBatches as runOnMemory, type RunBatchesOptions } from 'sluice/testing';
import { afterAll } from 'vitest';
import { BACKENDS, backendFactory, removeBackendDirs } from './backends.js';

const count = (values: number[], state: number | undefined): number => (state ?? 0) + values.length;
const pairs = (s: DStream<string>): DStream<Pair<string, number>> => s.pipe(mapToPair((w: string) => [w, 1]));

afterAll(removeBackendDirs);

describe.each(BACKENDS)('updateStateByKey on the %s backend', (backend) => {
  const stateBackend = backendFactory(backend);
  const runBatches = <T, U>(input: readonly (readonly T[])[], build: (s: DStream<T>) => DStream<U>, options?: RunBatchesOptions): Promise<U[][]> =>
    runOnMemory(input, build, stateBackend === undefined ? options : { ...options, stateBackend });

  it('emits every key with state after each batch, even keys without new values, in key order', async () => {
    const out = await runBatches([['b', 'a', 'b'], ['c'], []], (s) => pairs(s).pipe(updateStateByKey(count)), { numPartitions: 1 });
    expect(out).toEqual([
      [['a', 1], ['b', 2]],
      [['a', 1], ['b', 2], ['c', 1]],
      [['a', 1], ['b', 2], ['c', 1]],
    ]);
  });

  it('reports the state rows after each batch (after its commit) in the progress event', async () => {
    const rows: number[] = [];
    const dropIdle = (values: number[], state: number | undefined): number | undefined => (values.length === 0 ? undefined : (state ?? 0) + values.length);
    await runOnMemory([['b', 'a', 'b'], ['c'], []], (s) => pairs(s).pipe(updateStateByKey(dropIdle, { name: 'counts' })), {
      ...(stateBackend === undefined ? {} : { stateBackend }),
      configure: (ctx) => {
        ctx.addListener((e) => {
          if (e.type === 'batchCompleted') for (const o of e.progress.operators) if (o.operator === 'counts') rows.push(o.stateRows ?? -1);
        });
      },
    });
    // a and b; then c alone (a and b got no values); then none.
    expect(rows).toEqual([2, 1, 0]);
  });

  it('calls update with the batch values in arrival order and the previous state', async () => {
    const calls: unknown[] = [];
    await runBatches([[['k', 1], ['k', 2]], [], [['k', 3]]] as Pair<string, number>[][], (s) =>
      s.pipe(
        updateStateByKey((values: number[], state: number[] | undefined) => {
          calls.push([values, state]);
          return [...(state ?? []), ...values];
        }),
      ),
    );
    expect(calls).toEqual([
      [[1, 2], undefined],
      [[], [1, 2]],
      [[3], [1, 2]],
    ]);
  });

  it('removes a key whose update returns undefined', async () => {
    const out = await runBatches([['a', 'b'], ['a'], []], (s) =>
      pairs(s).pipe(updateStateByKey((values: number[], state: number | undefined) => (values.length === 0 ? undefined : (state ?? 0) + values.length))),
      { numPartitions: 1 },
    );
    expect(out).toEqual([[['a', 1], ['b', 1]], [['a', 2]], []]);
  });

  it('gives the update function the key and the batch time', async () => {
    const seen: unknown[] = [];
    await runBatches([['x'], []], (s) =>
      pairs(s).pipe(
        updateStateByKey((values: number[], state: number | undefined, { key, batchTime }) => {
          seen.push([key, batchTime]);
          return (state ?? 0) + values.length;
        }),
      ),
      { batchInterval: 500 },
    );
    expect(seen).toEqual([['x', 500], ['x', 1000]]);
  });

  it('starts from the initial state on a first run', async () => {
    const out = await runBatches([['a'], []], (s) => pairs(s).pipe(updateStateByKey(count, { initialState: [['a', 10], ['z', 5]] })), { numPartitions: 1 });
    expect(out).toEqual([
      [['a', 11], ['z', 5]],
      [['a', 11], ['z', 5]],
    ]);
  });

  it('keeps array keys, bigint keys and keys named like object internals apart and by value', async () => {
    const input: Pair<Key, number>[][] = [[[['card', 1], 1], [['card', 1], 1], ['__proto__', 1], [1n, 1], ['1', 1], [1, 1]]];
    const out = await runBatches(input, (s) => s.pipe(updateStateByKey((v: number[], st: number | undefined) => (st ?? 0) + v.length)), { numPartitions: 1 });
    expect(new Map(out[0]?.map(([k, v]) => [JSON.stringify(k, (_x, y: unknown) => (typeof y === 'bigint' ? `${y}n` : y)), v]))).toEqual(
      new Map([['["card",1]', 2], ['"__proto__"', 1], ['"1n"', 1], ['"1"', 1], ['1', 1]]),
    );
  });

  it('fails the batch naming the operator when update throws or returns a value that cannot be stored', async () => {
    await expect(runBatches([['a']], (s) => pairs(s).pipe(updateStateByKey(() => { throw new Error('bad update'); })))).rejects.toMatchObject({
      code: 'USER_FUNCTION_FAILED',
      operator: expect.stringMatching(/^updateStateByKey#\d+$/) as unknown,
    });
    await expect(runBatches([['a']], (s) => pairs(s).pipe(updateStateByKey(() => (() => 1) as unknown as number, { name: 'fn-state' })))).rejects.toMatchObject({
      code: 'USER_FUNCTION_FAILED',
      operator: 'fn-state',
      message: expect.stringMatching(/function/) as unknown,
    });
  });

  it('rejects a bad numPartitions at once', () => {
    expect(() => updateStateByKey(count, { numPartitions: 0 })).toThrow(RangeError);
  });

  it('a failed batch leaves the committed state as it was', async () => {
    const clock = new ManualClock();
    const ctx = new StreamingContext({ batchInterval: 1000, clock });
    const counts = pairs(ctx.queueStream([['a'], ['a', 'boom']])).pipe(updateStateByKey(count, { name: 'counts' }));
    counts.pipe(
      foreachBatch((records) => {
        if (records.some(([k]) => k === 'boom')) throw new Error('sink down');
      }),
    );
    await ctx.start();
    await clock.advance(2000);
    await expect(ctx.awaitTermination()).rejects.toMatchObject({ batchId: 1 });
    const state = queryableState(counts);
    expect(await state.get('a')).toBe(1);
    expect(await state.get('boom')).toBeUndefined();
  });
});
