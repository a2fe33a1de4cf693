import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { foreachBatch, ManualClock, mapToPair, StreamingContext, SluiceError, type Pair } from 'sluice';
import { getOrCreate, levelCheckpoint } from 'sluice/checkpoint';
import { updateStateByKey } from 'sluice/state';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-ckpt-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Run {
  readonly outputs: Map<number, Pair<string, number>[]>;
}

/** A checkpointed running count per key over a deterministic rate source, 4 records a batch. */
async function job(checkpoint: string, run: Run, options: { failAt?: number; interval?: number; clock?: ManualClock } = {}) {
  const clock = options.clock ?? new ManualClock();
  const ctx = await getOrCreate(checkpoint, (cp) => {
    const c = new StreamingContext({ batchInterval: 1000, clock, checkpoint: cp });
    c.rateStream({ rowsPerSecond: 1000, startTime: 0, maxRecordsPerBatch: 4, totalRows: 40, generate: (i) => `k${i % 3}` })
      .pipe(
        mapToPair((k: string) => [k, 1]),
        updateStateByKey((ones: number[], n: number | undefined) => (n ?? 0) + ones.length, { name: 'counts' }),
        foreachBatch((records, { batchId }) => {
          if (batchId === options.failAt) throw new Error('crash');
          run.outputs.set(batchId, [...records].sort());
        }),
      );
    return c;
  }, { interval: options.interval ?? 1 });
  return { ctx, clock };
}

/** Runs `n` batch intervals of the job; a restart passes the time the last run stopped at. */
async function runBatches(n: number, run: Run, options: { failAt?: number; interval?: number; dir: string; from?: number }): Promise<StreamingContext> {
  const { ctx, clock } = await job(options.dir, run, { ...options, clock: new ManualClock(options.from ?? 0) });
  await ctx.start();
  for (let i = 0; i < n && ctx.state === 'active'; i++) await clock.advance(1000);
  return ctx;
}

describe('checkpoint recovery', () => {
  it('a restart resumes after the last commit with the state restored, as if never stopped', async () => {
    const straight: Run = { outputs: new Map() };
    await (await runBatches(8, straight, { dir: join(dir, 'a') })).stop();
    const resumed: Run = { outputs: new Map() };
    await (await runBatches(3, resumed, { dir: join(dir, 'b') })).stop();
    await (await runBatches(5, resumed, { dir: join(dir, 'b'), from: 3000 })).stop();
    expect([...resumed.outputs.keys()]).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(resumed.outputs).toEqual(straight.outputs);
  });

  it('a batch that failed after its plan was logged is replayed with its logged plan, exactly once', async () => {
    const straight: Run = { outputs: new Map() };
    await (await runBatches(8, straight, { dir: join(dir, 'a') })).stop();
    const crashed: Run = { outputs: new Map() };
    const first = await runBatches(8, crashed, { dir: join(dir, 'b'), failAt: 4 });
    await expect(first.awaitTermination()).rejects.toBeInstanceOf(SluiceError);
    expect([...crashed.outputs.keys()]).toEqual([0, 1, 2, 3]);
    // Batch 4 (at 5000) is replayed on start; batches 5 to 7 follow.
    await (await runBatches(3, crashed, { dir: join(dir, 'b'), from: 5000 })).stop();
    expect(crashed.outputs).toEqual(straight.outputs);
  });

  it('with checkpointInterval 3, state persists every 3 batches and recovery replays the batches since', async () => {
    const straight: Run = { outputs: new Map() };
    await (await runBatches(9, straight, { dir: join(dir, 'a'), interval: 3 })).stop();
    const crashed: Run = { outputs: new Map() };
    const first = await runBatches(9, crashed, { dir: join(dir, 'b'), interval: 3, failAt: 7 });
    await expect(first.awaitTermination()).rejects.toBeInstanceOf(SluiceError);
    // State was persisted after batch 5: batches 6 and 7 are replayed on start, then batch 8 runs.
    await (await runBatches(1, crashed, { dir: join(dir, 'b'), interval: 3, from: 8000 })).stop();
    expect(crashed.outputs).toEqual(straight.outputs);
  });

  it('refuses a program that would lose a stateful operator\'s state with CHECKPOINT_INCOMPATIBLE naming the operator and the way to drop it', async () => {
    await (await runBatches(2, { outputs: new Map() }, { dir })).stop();
    const clock = new ManualClock();
    const other = new StreamingContext({ batchInterval: 1000, clock, checkpoint: levelCheckpoint(dir) });
    other
      .rateStream({ rowsPerSecond: 1000, startTime: 0, generate: (i) => `k${i}` })
      .pipe(mapToPair((k: string) => [k, 1]), updateStateByKey((v: number[], n: number | undefined) => (n ?? 0) + v.length, { name: 'totals' }), foreachBatch(() => undefined));
    await expect(other.start()).rejects.toMatchObject({ code: 'CHECKPOINT_INCOMPATIBLE', message: expect.stringMatching(/the state of the stateful operator 'counts' \(updateStateByKey\), which the program no longer has.*dropState: \['counts'\]/) as unknown });
  });

  it('refuses to recover a non-replayable source that must replay, with SOURCE_OFFSET_UNAVAILABLE', async () => {
    const build = (clock: ManualClock) => {
      const ctx = new StreamingContext({ batchInterval: 1000, clock, checkpoint: levelCheckpoint(dir) });
      ctx.queueStream([['a'], ['b']], { name: 'q' }).pipe(foreachBatch(() => undefined));
      return ctx;
    };
    const clock = new ManualClock();
    const first = build(clock);
    await first.start();
    await clock.advance(1000);
    await first.stop();
    await expect(build(new ManualClock()).start()).rejects.toMatchObject({ code: 'SOURCE_OFFSET_UNAVAILABLE', source: 'q' });
  });

  it('takes a checkpoint storage as the checkpoint option, and getOrCreate checks the context uses the one it gave', async () => {
    expect(() => new StreamingContext({ batchInterval: 1000, checkpoint: dir as never })).toThrow(new TypeError(`StreamingContext: checkpoint must be a checkpoint storage such as levelCheckpoint(directory) from 'sluice/checkpoint', got ${JSON.stringify(dir)}.`));
    await expect(getOrCreate(dir, () => new StreamingContext({ batchInterval: 1000 }))).rejects.toThrow(/must be created with the checkpoint build receives.*no checkpoint/);
    await expect(getOrCreate(dir, () => new StreamingContext({ batchInterval: 1000, checkpoint: levelCheckpoint(dir) }))).rejects.toThrow(/must be created with the checkpoint build receives/);
    expect(() => levelCheckpoint('')).toThrow(TypeError);
    expect(() => levelCheckpoint(dir, { interval: 0 })).toThrow(RangeError);
  });
});
