import { describe, expect, it } from 'vitest';
import { foreachBatch, ManualClock, mapToPair, StreamingContext, type Pair } from 'sluice';
import { getOrCreate, levelCheckpoint, type LevelCheckpointStorage } from 'sluice/checkpoint';
import { getHeapStatistics } from 'node:v8';
import { defaultStateCacheBytes, queryableState, updateStateByKey } from 'sluice/state';
import { checkpointerOf } from '../../checkpoint/internal.js';
import { useTempDir } from './checkpoint-harness.js';

const dir = useTempDir();

/** A checkpointed running count per key: 50 keys, 20 records a batch from a replayable source. */
function build(outputs: Map<number, Pair<string, number>[]>, clock: ManualClock) {
  return (checkpoint: LevelCheckpointStorage): StreamingContext => {
    const ctx = new StreamingContext({ batchInterval: 1000, clock, checkpoint });
    ctx
      .rateStream({ rowsPerSecond: 1000, startTime: 0, maxRecordsPerBatch: 20, totalRows: 200, generate: (i) => `k${(i * 7) % 50}` })
      .pipe(
        mapToPair((k: string) => [k, 1]),
        updateStateByKey((ones: number[], n: number | undefined) => (n ?? 0) + ones.length, { name: 'counts' }),
        foreachBatch((records, { batchId }) => {
          outputs.set(batchId, [...records].sort());
        }),
      );
    return ctx;
  };
}

async function run(checkpoint: string, batches: number, from: number, stateCacheSize?: number) {
  const outputs = new Map<number, Pair<string, number>[]>();
  const clock = new ManualClock(from);
  const ctx = await getOrCreate(checkpoint, build(outputs, clock), stateCacheSize === undefined ? undefined : { stateCacheSize });
  await ctx.start();
  for (let i = 0; i < batches && ctx.state === 'active'; i++) await clock.advance(1000);
  const state = new Map<string, unknown>();
  // eslint-disable-next-line @typescript-eslint/no-deprecated -- the context comes from getOrCreate's builder, the operator's stream is not at hand
  for await (const [k, v] of queryableState(ctx, 'counts').entries()) state.set(k as string, v);
  await ctx.stop();
  return { outputs, state };
}

describe('the state cache of a checkpoint', () => {
  it('is sized by a byte budget by default (a quarter of the heap limit), by the stateCacheSize option as a count, and by the context\'s options where the checkpoint gives none', async () => {
    const ctx = await getOrCreate(`${dir()}/a`, build(new Map(), new ManualClock()), { stateCacheSize: 7 });
    expect(checkpointerOf(ctx).stateCacheSize).toBe(7);
    await ctx.start();
    expect(checkpointerOf(ctx).stateBackend.inner.cacheSize).toBe(7);
    expect(checkpointerOf(ctx).stateBackend.inner.cacheBytes).toBeUndefined();
    await ctx.stop();
    const plain = await getOrCreate(`${dir()}/b`, build(new Map(), new ManualClock()));
    await plain.start();
    expect(checkpointerOf(plain).stateBackend.inner.cacheSize).toBe(Number.POSITIVE_INFINITY);
    expect(checkpointerOf(plain).stateBackend.inner.cacheBytes?.limit).toBe(defaultStateCacheBytes());
    expect(defaultStateCacheBytes()).toBe(Math.floor(getHeapStatistics().heap_size_limit / 4));
    await plain.stop();
    expect(levelCheckpoint(`${dir()}/c`).stateCacheSize).toBeUndefined();
    // The context's options, overridden by the checkpoint's own.
    const clock = new ManualClock();
    const viaContext = new StreamingContext({ batchInterval: 1000, clock, checkpoint: levelCheckpoint(`${dir()}/d`), stateCacheBytes: 4096, stateCacheSize: 3 });
    viaContext.rateStream({ rowsPerSecond: 10 }).pipe(mapToPair((r) => [r.value % 5, 1]), updateStateByKey((ones: number[], n: number | undefined) => (n ?? 0) + ones.length, { name: 'counts' }), foreachBatch(() => undefined));
    await viaContext.start();
    expect(checkpointerOf(viaContext).stateBackend.inner.cacheBytes?.limit).toBe(4096);
    expect(checkpointerOf(viaContext).stateBackend.inner.cacheSize).toBe(3);
    await viaContext.stop();
    const own = new StreamingContext({ batchInterval: 1000, clock, checkpoint: levelCheckpoint(`${dir()}/e`, { stateCacheBytes: 8192 }), stateCacheBytes: 4096 });
    own.rateStream({ rowsPerSecond: 10 }).pipe(foreachBatch(() => undefined));
    await own.start();
    expect(checkpointerOf(own).stateBackend.inner.cacheBytes?.limit).toBe(8192);
    await own.stop();
    expect(() => new StreamingContext({ batchInterval: 1000, checkpoint: levelCheckpoint(`${dir()}/f`), stateCacheBytes: -1 })).toThrow(/stateCacheBytes must be a non-negative integer/);
  });

  it('gives the same results under a byte budget that holds a few entries as with room for all', async () => {
    const roomy = await run(`${dir()}/roomy`, 12, 0);
    const outputs = new Map<number, Pair<string, number>[]>();
    const clock = new ManualClock();
    const ctx = await getOrCreate(`${dir()}/tight`, build(outputs, clock), { stateCacheBytes: 1000 });
    await ctx.start();
    for (let i = 0; i < 12 && ctx.state === 'active'; i++) await clock.advance(1000);
    const budget = checkpointerOf(ctx).stateBackend.inner.cacheBytes;
    expect(budget?.used).toBeLessThanOrEqual(1000);
    expect(budget?.used).toBeGreaterThan(0);
    await ctx.stop();
    expect(outputs).toEqual(roomy.outputs);
  });

  it('rejects a stateCacheSize that is not a non-negative integer, naming the option', async () => {
    for (const bad of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '10' as unknown as number]) {
      await expect(getOrCreate(dir(), build(new Map(), new ManualClock()), { stateCacheSize: bad })).rejects.toThrow(
        new RangeError(`levelCheckpoint: stateCacheSize must be a non-negative integer (state entries each operator keeps in memory), got ${String(bad)}.`),
      );
    }
    expect(() => levelCheckpoint(dir(), { stateCacheSize: -2 })).toThrow(RangeError);
  });

  it('gives the same results and state with any cache size, across a restart', async () => {
    const straight = await run(`${dir()}/straight`, 10, 0);
    for (const size of [0, 3, 1_000_000]) {
      const checkpoint = `${dir()}/sized-${size}`;
      const first = await run(checkpoint, 4, 0, size);
      const second = await run(checkpoint, 6, 4000, size === 0 ? 3 : 0);
      expect(new Map([...first.outputs, ...second.outputs])).toEqual(straight.outputs);
      expect(second.state).toEqual(straight.state);
    }
  });
});
