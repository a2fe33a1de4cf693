import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { foreachBatch, keyBy, ManualClock, mapToPair, mapValues, SluiceError, StreamingContext } from 'sluice';
import { inspectCheckpoint, inspectContext, levelCheckpoint, readCheckpointState, readContextState } from 'sluice/checkpoint';
import { mapWithState, stateSpec, updateStateByKey, type State } from 'sluice/state';
import { agg, dropDuplicates, eventTimeWindow, tumbling, withWatermark } from 'sluice/windows';
import { useTempDir } from './checkpoint-harness.js';

const dir = useTempDir();
const path = (): string => join(dir(), 'ckpt');

/**
 * Record i (4 a batch) is counted under the string key `user-<i % 3>` (updateStateByKey
 * 'counts'), under `['card', i % 2]` (mapWithState 'cards', state: the last i), and summed per
 * `user-<i % 3>` in 1 s tumbling event-time windows (record i at i * 100 ms).
 */
function job(clock: ManualClock, committed: number[] = []): StreamingContext {
  const ctx = new StreamingContext({ batchInterval: 1000, clock, checkpoint: levelCheckpoint(path()) });
  const input = ctx.rateStream({ name: 'rate', rowsPerSecond: 1000, startTime: 0, maxRecordsPerBatch: 4, generate: (i) => i });
  input.pipe(
    mapToPair((i: number) => [`user-${i % 3}`, 1]),
    updateStateByKey((ones: number[], n: number | undefined) => (n ?? 0) + ones.length, { name: 'counts' }),
    foreachBatch((_records, { batchId }) => void committed.push(batchId)),
  );
  const last = stateSpec((_key: unknown, i: number | undefined, state: State<number>) => {
    if (i !== undefined) state.update(i);
  });
  input.pipe(keyBy((i: number) => ['card', i % 2]), mapWithState(last.name('cards')), foreachBatch(() => undefined));
  input.pipe(
    withWatermark((i: number) => i * 100, 0),
    keyBy((i: number) => `user-${i % 3}`),
    mapValues(() => 1),
    eventTimeWindow(tumbling('1s'), agg.sum(), { name: 'sums' }),
    foreachBatch(() => undefined),
  );
  return ctx;
}

async function runBatches(n: number): Promise<void> {
  const clock = new ManualClock();
  const ctx = job(clock);
  await ctx.start();
  await clock.advance(n * 1000);
  await ctx.stop();
}

describe('readCheckpointState', () => {
  it('reads every key of an updateStateByKey, decoded, as of the last persisted batch', async () => {
    await runBatches(3); // records 0..11
    expect(await readCheckpointState(path(), 'counts')).toEqual({
      operator: 'counts',
      kind: 'updateStateByKey',
      batchId: 2,
      entries: [
        { key: 'user-0', value: 4 },
        { key: 'user-1', value: 4 },
        { key: 'user-2', value: 4 },
      ],
      more: false,
    });
  });

  it('reads one key, a prefix (string or array), and at most limit entries with more set', async () => {
    await runBatches(3);
    expect((await readCheckpointState(path(), 'counts', { key: 'user-1' })).entries).toEqual([{ key: 'user-1', value: 4 }]);
    expect((await readCheckpointState(path(), 'counts', { key: 'user-9' })).entries).toEqual([]);
    expect((await readCheckpointState(path(), 'counts', { prefix: 'user-' })).entries).toHaveLength(3);
    expect((await readCheckpointState(path(), 'counts', { prefix: 'other' })).entries).toEqual([]);
    expect(await readCheckpointState(path(), 'counts', { limit: 2 })).toMatchObject({ entries: [{ key: 'user-0' }, { key: 'user-1' }], more: true });
    expect(await readCheckpointState(path(), 'counts', { limit: 3 })).toMatchObject({ more: false });
    // mapWithState: its state without the entry's timestamps; array keys by their first parts.
    expect((await readCheckpointState(path(), 'cards', { prefix: ['card'] })).entries).toEqual([
      { key: ['card', 0], value: 10 },
      { key: ['card', 1], value: 11 },
    ]);
    expect((await readCheckpointState(path(), 'cards', { key: ['card', 1] })).entries).toEqual([{ key: ['card', 1], value: 11 }]);
    expect((await readCheckpointState(path(), 'cards', { prefix: ['bank'] })).entries).toEqual([]);
  });

  it('reads the windows of an event-time window operator with their bounds', async () => {
    await runBatches(3);
    const { entries } = await readCheckpointState(path(), 'sums', { key: 'user-0' });
    // Records 0..11 at i * 100 ms; the watermark (max event time, no delay) has closed [0, 1000) by batch 2.
    expect(entries.every((e) => e.key === 'user-0' && e.window?.end === (e.window?.start ?? 0) + 1000)).toBe(true);
    expect(entries.length).toBeGreaterThan(0);
  });

  it('reads the keys a dropDuplicates remembers, each with the time it is remembered until', async () => {
    const clock = new ManualClock();
    const ctx = new StreamingContext({ batchInterval: 1000, clock, checkpoint: levelCheckpoint(path()) });
    ctx
      .rateStream({ name: 'rate', rowsPerSecond: 1000, startTime: 0, maxRecordsPerBatch: 4, generate: (i) => i })
      .pipe(withWatermark((i: number) => i * 100, 0), dropDuplicates((i: number) => `id-${i % 3}`, { within: 1000, name: 'dedup' }), foreachBatch(() => undefined));
    await ctx.start();
    await clock.advance(1000);
    await ctx.stop();
    // Batch 0 read records 0 to 3 (times 0 to 300): ids 0, 1 and 2 first seen at 0, 100 and 200.
    expect(await readCheckpointState(path(), 'dedup')).toMatchObject({ kind: 'dropDuplicates', batchId: 0, entries: [{ key: 'id-0', value: 1000 }, { key: 'id-1', value: 1100 }, { key: 'id-2', value: 1200 }], more: false });
  });

  it('refuses an unknown operator listing those it holds, a missing checkpoint, and bad options', async () => {
    await runBatches(1);
    await expect(readCheckpointState(path(), 'nope')).rejects.toThrow(new TypeError(`The checkpoint at ${path()} holds no stateful operator named 'nope'; it holds: counts (updateStateByKey), cards (mapWithState), sums (eventTimeWindow).`));
    await expect(readCheckpointState(join(dir(), 'missing'), 'counts')).rejects.toMatchObject({ code: 'CHECKPOINT_UNAVAILABLE', message: expect.stringMatching(/^There is no checkpoint at .*missing: no such directory/) as unknown });
    await expect(readCheckpointState(path(), 'counts', { limit: 0 })).rejects.toThrow(RangeError);
    await expect(readCheckpointState(path(), 'counts', { key: 'a', prefix: 'a' })).rejects.toThrow(/a key or a prefix, not both/);
    await expect(readCheckpointState(path(), 'counts', { prefix: 3 as never })).rejects.toThrow(/a prefix is a string or an array of key parts, got 3/);
  });

  it("refuses a running context's checkpoint, saying to use its monitor; readContextState and inspectContext read it through the context", async () => {
    const clock = new ManualClock();
    const ctx = job(clock);
    await ctx.start();
    await clock.advance(2000);
    const locked = await readCheckpointState(path(), 'counts').catch((error: unknown) => error);
    expect(locked).toBeInstanceOf(SluiceError);
    expect(locked).toMatchObject({ code: 'CHECKPOINT_UNAVAILABLE', message: expect.stringMatching(/is in use by a running context .*through the job's monitor/) as unknown });
    expect(await readContextState(ctx, 'counts', { key: 'user-0' })).toMatchObject({ batchId: 1, entries: [{ key: 'user-0', value: 3 }] });
    const running = await inspectContext(ctx);
    expect(running.lastCommitted).toMatchObject({ batchId: 1 });
    await ctx.stop();
    expect(await inspectCheckpoint(path())).toEqual(running);
    await expect(inspectContext(ctx)).rejects.toThrow(/is not open/);
  });

  it('inspectContext is consistent with one committed batch while batches commit', async () => {
    const clock = new ManualClock();
    const ctx = job(clock);
    await ctx.start();
    const seen: { batch: number | undefined; rows: number }[] = [];
    for (let i = 0; i < 5; i++) {
      const advancing = clock.advance(1000);
      const info = await inspectContext(ctx);
      seen.push({ batch: info.lastCommitted?.batchId, rows: info.sources[0] === undefined ? 0 : (info.sources[0].offset as { rows: number }).rows });
      await advancing;
    }
    await ctx.stop();
    // Whatever batch a read saw committed, the source offset it read is that batch's (4 records a batch).
    for (const { batch, rows } of seen) expect(rows).toBe(batch === undefined ? 0 : (batch + 1) * 4);
  });
});
