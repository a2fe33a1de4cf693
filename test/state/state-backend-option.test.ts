import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { foreachBatch, keyBy, ManualClock, mapToPair, StreamingContext, type Pair } from 'sluice';
import { levelCheckpoint } from 'sluice/checkpoint';
import { LevelStateBackend, MemoryStateBackend, mapWithState, stateSpec, updateStateByKey, type State } from 'sluice/state';
import { agg, eventTimeWindow, tumbling, withWatermark } from 'sluice/windows';
import { useTempDir } from '../support/temp-dir.js';

const tempDir = useTempDir('sluice-backend-option-');

interface Click {
  readonly k: string;
  readonly t: number;
}

const total = (ones: number[], n: number | undefined): number => (n ?? 0) + ones.length;

/** Runs two batches of words through a running count named `counts` (on `backend` when given) and a second one named `other`. */
async function run(ctx: StreamingContext, clock: ManualClock, countsBackend?: LevelStateBackend | MemoryStateBackend): Promise<Pair<string, number>[][]> {
  const out: Pair<string, number>[][] = [];
  const words = ctx.queueStream([['a', 'b'], ['a']]).pipe(mapToPair((w: string) => [w, 1]));
  words.pipe(updateStateByKey(total, { name: 'counts', ...(countsBackend === undefined ? {} : { stateBackend: countsBackend }) }), foreachBatch((r) => void out.push([...r])));
  words.pipe(updateStateByKey(total, { name: 'other' }), foreachBatch(() => undefined));
  await ctx.start();
  await clock.advance(2000);
  await ctx.stop();
  return out;
}

/** The committed rows of operator `name` in the LevelDB backend at `path` (opened after the context closed it). */
async function rowsIn(path: string, name: string): Promise<number> {
  const backend = await LevelStateBackend.open(path);
  try {
    return (await backend.open(name)).stats().rows;
  } finally {
    await backend.close();
  }
}

describe('choosing a state backend by an option', () => {
  it('the context option keeps every operator’s state on that backend, and the context closes it', async () => {
    const clock = new ManualClock();
    const path = join(tempDir(), 'state');
    const ctx = new StreamingContext({ batchInterval: 1000, clock, stateBackend: await LevelStateBackend.open(path) });
    expect(await run(ctx, clock)).toEqual([[['a', 1], ['b', 1]], [['a', 2], ['b', 1]]]);
    expect([await rowsIn(path, 'counts'), await rowsIn(path, 'other')]).toEqual([2, 2]);
  });

  it('an operator’s own backend overrides the default for that operator only', async () => {
    const clock = new ManualClock();
    const path = join(tempDir(), 'state');
    const ctx = new StreamingContext({ batchInterval: 1000, clock });
    expect(await run(ctx, clock, await LevelStateBackend.open(path))).toEqual([[['a', 1], ['b', 1]], [['a', 2], ['b', 1]]]);
    expect(await rowsIn(path, 'counts')).toBe(2);
    expect(await rowsIn(path, 'other')).toBe(0);
  });

  it('is taken by mapWithState (stateSpec().stateBackend) and eventTimeWindow too', async () => {
    const clock = new ManualClock();
    const path = join(tempDir(), 'state');
    const backend = await LevelStateBackend.open(path);
    const ctx = new StreamingContext({ batchInterval: 1000, clock });
    const events = ctx.queueStream<Click>([[{ k: 'a', t: 10 }, { k: 'b', t: 20 }], [{ k: 'a', t: 2500 }]]);
    const keyed = events.pipe(withWatermark((e: Click) => e.t, 0), keyBy((e: Click) => e.k));
    const seen = stateSpec((_k: string, _v: unknown, s: State<number>) => {
      s.update((s.getOption() ?? 0) + 1);
      return undefined;
    });
    keyed.pipe(mapWithState(seen.name('seen').stateBackend(backend)), foreachBatch(() => undefined));
    keyed.pipe(eventTimeWindow(tumbling(1000), agg.count(), { name: 'windows', stateBackend: backend }), foreachBatch(() => undefined));
    await ctx.start();
    await clock.advance(2000);
    await ctx.stop();
    await expect(ctx.awaitTermination()).resolves.toBeUndefined();
    expect(await rowsIn(path, 'seen')).toBeGreaterThan(0);
    expect(await rowsIn(path, 'windows')).toBeGreaterThan(0);
  });

  it('refuses a stateBackend with a checkpoint, on the context and on an operator, with a TypeError that says what to change', () => {
    const checkpoint = levelCheckpoint(join(tempDir(), 'ckpt'));
    expect(() => new StreamingContext({ batchInterval: 1000, checkpoint, stateBackend: new MemoryStateBackend() })).toThrow(
      new TypeError("StreamingContext: a checkpointed context keeps its operators' state in the checkpoint, so that a restart restores it exactly once; remove the stateBackend option (or the checkpoint)."),
    );
    const ctx = new StreamingContext({ batchInterval: 1000, checkpoint });
    const words = ctx.queueStream<Pair<string, number>>([]);
    expect(() => words.pipe(updateStateByKey(total, { name: 'counts', stateBackend: new MemoryStateBackend() }))).toThrow(/counts: this context is checkpointed.*remove the stateBackend option of counts/);
  });
});
