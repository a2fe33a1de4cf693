import { join } from 'node:path';
import { Level } from 'level';
import { describe, expect, it } from 'vitest';
import { foreachBatch, keyBy, ManualClock, mapToPair, mapValues, SluiceError, StreamingContext } from 'sluice';
import { formatInspection, inspectCheckpoint, levelCheckpoint } from 'sluice/checkpoint';
import { mapWithState, stateSpec, updateStateByKey, type State } from 'sluice/state';
import { withWatermark } from 'sluice/windows';
import { runFor, useTempDir } from './checkpoint-harness.js';

const dir = useTempDir();
const checkpoint = (): string => join(dir(), 'ckpt');

interface Click {
  readonly key: string;
  readonly ts: number;
}

/** Counts per key over 4 records a batch; record i has event time i * 100 ms; the watermark trails by 500 ms. */
function job(clock: ManualClock, options: { failAt?: number; interval?: number } = {}): StreamingContext {
  const ctx = new StreamingContext({ batchInterval: 1000, clock, checkpoint: levelCheckpoint(checkpoint(), { interval: options.interval ?? 1 }) });
  ctx
    .rateStream({ name: 'rate', rowsPerSecond: 1000, startTime: 0, maxRecordsPerBatch: 4, generate: (i): Click => ({ key: `k${i % 3}`, ts: i * 100 }) })
    .pipe(
      withWatermark((click: Click) => click.ts, 500),
      mapToPair((click: Click) => [click.key, 1]),
      updateStateByKey((ones: number[], n: number | undefined) => (n ?? 0) + ones.length, { name: 'counts' }),
      foreachBatch((_records, { batchId }) => {
        if (batchId === options.failAt) throw new Error('crash');
      }),
    );
  return ctx;
}

async function run(batches: number, options: { failAt?: number; interval?: number } = {}): Promise<void> {
  const clock = new ManualClock();
  const ctx = job(clock, options);
  await runFor(ctx, clock, batches);
  await ctx.stop();
}

describe('inspectCheckpoint', () => {
  it('reports the last commit, state sizes, source offsets and watermark after a run', async () => {
    await run(5);
    const info = await inspectCheckpoint(checkpoint());
    expect(info).toMatchObject({
      directory: checkpoint(),
      format: 2,
      zeroTime: 0,
      batchIntervalMs: 1000,
      lastCommitted: { batchId: 4, batchTime: 5000 },
      lastPersisted: 4,
      pending: [],
      sources: [{ name: 'rate', offset: { rows: 20, startTime: 0 } }],
      // Batch 4 ran with the watermark of the 16 records before it: 1500 - 500.
      watermark: 1000,
      watermarkPolicy: 'min',
    });
    expect(info.operators).toEqual([{ id: 'counts', kind: 'updateStateByKey', keys: 3, rows: 3, bytes: expect.any(Number) as unknown }]);
    expect(info.operators[0]?.bytes).toBeGreaterThan(0);
  });

  it('reports as keys what the progress event counts (the entries), beside every stored row: a TTL keeps a deadline row per key', async () => {
    const clock = new ManualClock();
    const ctx = new StreamingContext({ batchInterval: 1000, clock, checkpoint: levelCheckpoint(checkpoint()) });
    const stateRows: number[] = [];
    ctx.addListener((e) => {
      if (e.type === 'batchCompleted') for (const o of e.progress.operators) if (o.operator === 'seen') stateRows.push(o.stateRows ?? -1);
    });
    const seen = stateSpec((key: string, _v: number | undefined, state: State<number>) => {
      if (!state.isTimingOut()) state.update(1);
      return key;
    });
    ctx
      .rateStream({ name: 'rate', rowsPerSecond: 1000, startTime: 0, maxRecordsPerBatch: 4, generate: (i) => `k${i % 5}` })
      .pipe(
        keyBy((k: string) => k),
        mapValues(() => 1),
        mapWithState(seen.ttl('1h').name('seen')),
        foreachBatch(() => undefined),
      );
    await runFor(ctx, clock, 3);
    await ctx.stop();
    const [operator] = (await inspectCheckpoint(checkpoint())).operators;
    expect(operator).toMatchObject({ id: 'seen', kind: 'mapWithState', keys: 5, rows: 10 });
    expect(stateRows.at(-1)).toBe(operator?.keys);
  });

  it('leaves keys out for a store whose meta entry an earlier version wrote (no rows per namespace)', async () => {
    await run(3);
    const db = new Level<string, string>(checkpoint());
    const metas = db.sublevel<string, { rows: number }>('state-meta', { valueEncoding: 'json' });
    const { namespaces: _, ...older } = (await metas.get('counts')) as { rows: number; namespaces?: unknown };
    await metas.put('counts', older);
    await db.close();
    const [operator] = (await inspectCheckpoint(checkpoint())).operators;
    expect(operator).toEqual({ id: 'counts', kind: 'updateStateByKey', rows: 3, bytes: expect.any(Number) as unknown });
  });

  it('lists a batch whose plan was logged but that failed before its commit as pending', async () => {
    await run(5, { failAt: 3 });
    const info = await inspectCheckpoint(checkpoint());
    expect(info.lastCommitted).toEqual({ batchId: 2, batchTime: 3000 });
    expect(info.pending).toEqual([3]);
    expect(info.sources).toEqual([{ name: 'rate', offset: { rows: 12, startTime: 0 } }]);
  });

  it('tells the last persisted state from the last commit with checkpointInterval 3', async () => {
    await run(5, { interval: 3 });
    const info = await inspectCheckpoint(checkpoint());
    expect(info.lastCommitted?.batchId).toBe(4);
    expect(info.lastPersisted).toBe(2);
  });

  it('reports an empty checkpoint: nothing committed, no watermark', async () => {
    await run(0);
    const info = await inspectCheckpoint(checkpoint());
    expect(info).toMatchObject({ lastCommitted: undefined, lastPersisted: undefined, pending: [], operators: [], sources: [], watermark: undefined, watermarkPolicy: undefined });
  });

  it('refuses a checkpoint a running context holds: CHECKPOINT_UNAVAILABLE, saying so', async () => {
    const clock = new ManualClock();
    const ctx = job(clock);
    await runFor(ctx, clock, 2);
    const error: unknown = await inspectCheckpoint(checkpoint()).catch((e: unknown) => e);
    await ctx.stop();
    expect(error).toBeInstanceOf(SluiceError);
    expect(error).toMatchObject({ code: 'CHECKPOINT_UNAVAILABLE', message: expect.stringMatching(/in use by a running context/) as unknown });
  });

  it('refuses a directory without a checkpoint: CHECKPOINT_UNAVAILABLE', async () => {
    await expect(inspectCheckpoint(join(dir(), 'missing'))).rejects.toMatchObject({ code: 'CHECKPOINT_UNAVAILABLE', message: expect.stringMatching(/no checkpoint at .*no such directory/) as unknown });
    await expect(inspectCheckpoint(dir())).rejects.toMatchObject({ code: 'CHECKPOINT_UNAVAILABLE', message: expect.stringMatching(/no checkpoint at .*holds no LevelDB database/) as unknown });
  });

  it('formats a short report', async () => {
    await run(5);
    const report = formatInspection(await inspectCheckpoint(checkpoint()));
    expect(report.split('\n')).toEqual([
      `Checkpoint ${checkpoint()} (format 2, batch interval 1000 ms, zero time 0 (1970-01-01T00:00:00.000Z))`,
      '  last committed: batch 4 at 5000 (1970-01-01T00:00:05.000Z) (state persisted at batch 4)',
      '  pending:        none',
      "  watermark:      1000 (1970-01-01T00:00:01.000Z) (policy 'min')",
      '  sources:        rate at {"rows":20,"startTime":0}',
      expect.stringMatching(/^ {2}operators: {6}counts \(updateStateByKey\): 3 keys, 3 rows, \d+ bytes$/) as unknown,
    ]);
  });
});
