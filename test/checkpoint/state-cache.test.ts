import { describe, expect, it } from 'vitest';
import { foreachBatch, ManualClock, mapToPair, StreamingContext, type Pair } from 'sluice';
import { getOrCreate, levelCheckpoint, type LevelCheckpointStorage } from 'sluice/checkpoint';
import { DEFAULT_STATE_CACHE_SIZE, queryableState, updateStateByKey } from 'sluice/state';
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
  it('is sized by the stateCacheSize option of the checkpoint, and by default holds DEFAULT_STATE_CACHE_SIZE entries per store', async () => {
    const ctx = await getOrCreate(`${dir()}/a`, build(new Map(), new ManualClock()), { stateCacheSize: 7 });
    expect(checkpointerOf(ctx).stateCacheSize).toBe(7);
    await ctx.start();
    expect(checkpointerOf(ctx).stateBackend.inner.cacheSize).toBe(7);
    await ctx.stop();
    const plain = await getOrCreate(`${dir()}/b`, build(new Map(), new ManualClock()));
    expect(checkpointerOf(plain).stateCacheSize).toBe(DEFAULT_STATE_CACHE_SIZE);
    expect(levelCheckpoint(`${dir()}/c`).stateCacheSize).toBe(DEFAULT_STATE_CACHE_SIZE);
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
