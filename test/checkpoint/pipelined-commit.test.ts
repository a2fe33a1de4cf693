import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { foreachBatch, ManualClock, map, mapToPair, SluiceError, StreamingContext, type Pair, type StreamingEvent } from 'sluice';
import { levelCheckpoint, readCheckpointState } from 'sluice/checkpoint';
import { mapWithState, stateSpec, updateStateByKey, type State } from 'sluice/state';
import { agg, eventTimeWindow, tumbling, withWatermark, type WindowResult } from 'sluice/windows';
import { faultyCheckpoint, type CheckpointFaults } from 'sluice/testing';
import { useTempDir } from '../support/temp-dir.js';

/*
 * The pipelined commit (docs/exactly-once.md): batch N's atomic write may overlap batch N+1's
 * read and compute; N+1's outputs wait for N's commit; N+1 reads N's state as if N had committed;
 * a failed write of N fails N+1 and stops the context with N's error. Batches run back to back in
 * a bounded run (runToCompletion), one record each, all with key 'k'; the checkpoint's state cache
 * holds nothing (stateCacheSize 0), so every committed value is read from LevelDB.
 */

const tempDir = useTempDir('sluice-pipelined-');

/** Resolves when `check` holds, polling every few ms, or after `ms` (then it says so). */
async function until(check: () => boolean, ms = 2000): Promise<boolean> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) return false;
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  return true;
}

interface Job {
  readonly ctx: StreamingContext;
  readonly log: string[];
  readonly events: StreamingEvent[];
}

/**
 * A running count of key 'k' (updateStateByKey) over `rows` records, one a batch: the map after
 * it logs `compute <count>` while the batch computes, the output logs `output <count>`, the
 * checkpoint `write <batch> started` and `write <batch> durable`.
 */
function countingJob(dir: string, faults: { readonly during?: CheckpointFaults['duringWrite']; readonly pipelinedCommit?: boolean; readonly rows?: number } = {}): Job {
  // pipelinedCommit: true unless told otherwise.
  const log: string[] = [];
  const checkpoint = faultyCheckpoint(levelCheckpoint(dir, { stateCacheSize: 0 }), {
    duringWrite: async (batchId, write) => {
      log.push(`write ${batchId} started`);
      await faults.during?.(batchId, write);
      await write();
      log.push(`write ${batchId} durable`);
    },
  });
  const ctx = new StreamingContext({ batchInterval: 1000, clock: new ManualClock(), checkpoint, pipelinedCommit: faults.pipelinedCommit ?? true });
  const events: StreamingEvent[] = [];
  ctx.addListener((e) => void events.push(e));
  ctx
    .rateStream({ rowsPerSecond: 1000, startTime: 0, totalRows: faults.rows ?? 3, generate: (i) => i, name: 'rate' })
    .pipe(
      mapToPair((i: number) => ['k', i]),
      updateStateByKey((values: number[], n: number | undefined) => (n ?? 0) + values.length, { name: 'counts' }),
      map((p: Pair<string, number>) => {
        log.push(`compute ${p[1]}`);
        return p[1];
      }),
      foreachBatch((counts: readonly number[]) => void log.push(`output ${counts.join()}`)),
    );
  return { ctx, log, events };
}

/** The committed state of `operator` in the (stopped) checkpoint at `dir`: [key, value] entries. */
async function stateOf(dir: string, operator: string): Promise<unknown[]> {
  const { entries } = await readCheckpointState(dir, operator, { limit: 10_000 });
  return entries.map((e) => [e.key, e.window, e.value]);
}

const before = (log: readonly string[], a: string, b: string): boolean => log.includes(a) && log.includes(b) && log.indexOf(a) < log.indexOf(b);

describe('the pipelined commit', () => {
  it("computes batch N+1 while N's atomic write is in flight, on N's state, and starts N+1's output only once N's write is durable", async () => {
    let computedNext = false;
    const dir = tempDir();
    const { ctx, log } = countingJob(dir, {
      // Batch 0's write waits until batch 1 has computed (or 2 s, to fail rather than hang).
      during: async (batchId) => {
        if (batchId === 0) computedNext = await until(() => log.includes('compute 2'));
      },
    });
    await ctx.runToCompletion({ maxRecordsPerBatch: 1 });
    expect(computedNext, 'batch 1 computed while the write of batch 0 was held').toBe(true);
    // Batch 1 read count 1, staged by batch 0 and not yet durable (no cache: only the handed-off writes had it).
    expect(log.slice(0, 6)).toEqual(['compute 1', 'output 1', 'write 0 started', 'compute 2', 'write 0 durable', 'output 2']);
    expect(before(log, 'output 2', 'write 1 started')).toBe(true);
    expect(log.filter((l) => l.startsWith('output'))).toEqual(['output 1', 'output 2', 'output 3']);
    expect(await stateOf(dir, 'counts')).toEqual([['k', undefined, 3]]);
  });

  it('with pipelinedCommit: false (the default), batch N+1 starts only once N has committed', async () => {
    const { ctx, log } = countingJob(tempDir(), { pipelinedCommit: false });
    await ctx.runToCompletion({ maxRecordsPerBatch: 1 });
    expect(log).toEqual(['compute 1', 'output 1', 'write 0 started', 'write 0 durable', 'compute 2', 'output 2', 'write 1 started', 'write 1 durable', 'compute 3', 'output 3', 'write 2 started', 'write 2 durable']);
  });

  it("a failed write of batch N fails N+1, which computed meanwhile, and stops the context with N's error; a restart replays both", async () => {
    const dir = tempDir();
    const { ctx, log, events } = countingJob(dir, {
      during: async (batchId) => {
        if (batchId !== 0) return;
        await until(() => log.includes('compute 2'));
        throw new Error('disk full');
      },
    });
    const failure = await ctx.runToCompletion({ maxRecordsPerBatch: 1 }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(SluiceError);
    expect(failure).toMatchObject({ code: 'COMMIT_FAILED', batchId: 0 });
    expect((failure as SluiceError).message).toContain('disk full');
    expect(log).toEqual(['compute 1', 'output 1', 'write 0 started', 'compute 2']);
    const failed = events.flatMap((e) => (e.type === 'batchFailed' ? [e] : []));
    expect(failed.map((e) => e.batchId).sort()).toEqual([0, 1]);
    const second = failed.find((e) => e.batchId === 1)!.error;
    expect(second).toMatchObject({ code: 'COMMIT_FAILED', batchId: 1 });
    expect(second.message).toContain('the commit of the batch before it, in flight while it computed, failed');
    expect(second.cause).toBe(failure);
    expect(events.filter((e) => e.type === 'batchCompleted')).toEqual([]);

    // Both plans were logged: the restart replays batches 0 and 1 as logged, then runs batch 2.
    const again = countingJob(dir);
    await again.ctx.runToCompletion({ maxRecordsPerBatch: 1 });
    expect(again.events.flatMap((e) => (e.type === 'batchStarted' ? [e.batchId] : []))).toEqual([0, 1, 2]);
    expect(again.log.filter((l) => l.startsWith('output'))).toEqual(['output 1', 'output 2', 'output 3']);
    expect(await stateOf(dir, 'counts')).toEqual([['k', undefined, 3]]);
  });

  it("a crash after N's write went through, while N+1 computed: the restart resumes after N and replays N+1", async () => {
    const dir = tempDir();
    const { ctx, log } = countingJob(dir, {
      during: async (batchId, write) => {
        if (batchId !== 0) return;
        await write();
        await until(() => log.includes('compute 2'));
        throw new Error('crash');
      },
    });
    await expect(ctx.runToCompletion({ maxRecordsPerBatch: 1 })).rejects.toMatchObject({ batchId: 0 });
    expect(log).toEqual(['compute 1', 'output 1', 'write 0 started', 'compute 2']);
    const again = countingJob(dir);
    await again.ctx.runToCompletion({ maxRecordsPerBatch: 1 });
    expect(again.events.flatMap((e) => (e.type === 'batchStarted' ? [e.batchId] : []))).toEqual([1, 2]);
    expect(again.log.filter((l) => l.startsWith('output'))).toEqual(['output 2', 'output 3']);
  });

  it('N+1 fails with its own error when N committed: the context stops with it, after N is durable', async () => {
    const dir = tempDir();
    const log: string[] = [];
    let release: () => void = () => undefined;
    // Released by batch 1's compute (or after 2 s, to fail rather than hang).
    const held = new Promise<void>((resolve) => {
      release = resolve;
      setTimeout(resolve, 2000);
    });
    const checkpoint = faultyCheckpoint(levelCheckpoint(dir), {
      duringWrite: async (batchId) => {
        if (batchId === 0) await held;
        log.push(`write ${batchId} durable`);
      },
    });
    const ctx = new StreamingContext({ batchInterval: 1000, clock: new ManualClock(), checkpoint, pipelinedCommit: true });
    ctx
      .rateStream({ rowsPerSecond: 1000, startTime: 0, totalRows: 3, generate: (i) => i, name: 'rate' })
      .pipe(
        map((i: number) => {
          if (i === 1) {
            release();
            throw new RangeError('bad record');
          }
          return i;
        }),
        foreachBatch((r: readonly number[]) => void log.push(`output ${r.join()}`)),
      );
    await expect(ctx.runToCompletion({ maxRecordsPerBatch: 1 })).rejects.toMatchObject({ code: 'USER_FUNCTION_FAILED', batchId: 1 });
    expect(log).toEqual(['output 0', 'write 0 durable']);
    const restart = new StreamingContext({ batchInterval: 1000, clock: new ManualClock(), checkpoint: levelCheckpoint(dir) });
    const replayed: number[] = [];
    restart.addListener((e) => {
      if (e.type === 'batchStarted') replayed.push(e.batchId);
    });
    restart.rateStream({ rowsPerSecond: 1000, startTime: 0, totalRows: 3, generate: (i) => i, name: 'rate' }).pipe(foreachBatch(() => undefined));
    await restart.runToCompletion({ maxRecordsPerBatch: 1 });
    expect(replayed).toEqual([1, 2]);
  });

  it('gives the outputs and state of a run without it, for mapWithState with a timeout and an event-time window, whatever the cache holds', async () => {
    const run = async (pipelinedCommit: boolean, stateCacheSize: number): Promise<{ outputs: unknown[]; state: unknown }> => {
      const outputs: unknown[] = [];
      const dir = join(tempDir(), `${String(pipelinedCommit)}-${stateCacheSize}`);
      const ctx = new StreamingContext({ batchInterval: 1000, clock: new ManualClock(), pipelinedCommit, checkpoint: levelCheckpoint(dir, { stateCacheSize }) });
      type Ev = { readonly i: number; readonly key: string; readonly t: number };
      const events = ctx.rateStream<Ev>({ rowsPerSecond: 1000, startTime: 0, totalRows: 60, generate: (i) => ({ i, key: `k${(i * 7) % 5}`, t: i * 10 - ((i * 13) % 30) }), name: 'rate' });
      events.pipe(
        mapToPair((e: Ev) => [e.key, e.i]),
        mapWithState(
          stateSpec((key: string, i: number | undefined, state: State<number>) => {
            if (state.isTimingOut()) return [key, 'timeout', state.get()];
            state.update((state.getOption() ?? 0) + (i ?? 0));
            return [key, state.get()];
          })
            .timeout(2000)
            .name('sums'),
        ),
        foreachBatch((r: readonly unknown[], { batchId }) => void outputs.push(['sums', batchId, r])),
      );
      events.pipe(
        withWatermark((e: Ev) => e.t, 20),
        mapToPair((e: Ev) => [e.key, 1]),
        eventTimeWindow(tumbling(50), agg.count(), { name: 'windows' }),
        map((w: WindowResult<string, number>) => [w.key, w.window.start, w.value]),
        foreachBatch((r: readonly unknown[], { batchId }) => void outputs.push(['windows', batchId, r])),
      );
      await ctx.runToCompletion({ maxRecordsPerBatch: 4 });
      return { outputs, state: { sums: await stateOf(dir, 'sums'), windows: await stateOf(dir, 'windows') } };
    };
    const expected = await run(false, 100_000);
    expect(await run(true, 100_000)).toEqual(expected);
    expect(await run(true, 0)).toEqual(expected);
  });
});
