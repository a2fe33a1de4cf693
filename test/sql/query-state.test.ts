import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { foreachBatch, keyBy, ManualClock, mapToPair, mapValues, StreamingContext, type StreamingContextOptions } from 'sluice';
import { levelCheckpoint } from 'sluice/checkpoint';
import { queryCheckpoint, queryState, type StateQueryResult } from 'sluice/sql';
import { updateStateByKey } from 'sluice/state';
import { agg, eventTimeWindow, tumbling, withWatermark } from 'sluice/windows';
import { useTempDir } from '../support/temp-dir.js';

const dir = useTempDir();
const path = (): string => join(dir(), 'ckpt');

/**
 * Record i (4 a batch) is counted under `user-<i % 3>` ('counts') and under 'all' ('total'), so
 * after batch k the counts sum to the total, 4 (k + 1); with a checkpoint, also summed per
 * `user-<i % 3>` in 1 s tumbling event-time windows ('sums', record i at i * 100 ms).
 */
function job(clock: ManualClock, checkpoint: boolean): StreamingContext {
  const options: StreamingContextOptions = { batchInterval: 1000, clock, ...(checkpoint ? { checkpoint: levelCheckpoint(path()) } : {}) };
  const ctx = new StreamingContext(options);
  const input = ctx.rateStream({ name: 'rate', rowsPerSecond: 1000, startTime: 0, maxRecordsPerBatch: 4, generate: (i) => i });
  const count = (ones: number[], n: number | undefined): number => (n ?? 0) + ones.length;
  input.pipe(mapToPair((i: number) => [`user-${i % 3}`, 1]), updateStateByKey(count, { name: 'counts' }), foreachBatch(() => undefined));
  // Each batch takes a while, so that the queries meet batches at every step of their commits.
  input.pipe(mapToPair(() => ['all', 1]), updateStateByKey(count, { name: 'total' }), foreachBatch(() => delay(15)));
  if (checkpoint) {
    input.pipe(
      withWatermark((i: number) => i * 100, 0),
      keyBy((i: number) => `user-${i % 3}`),
      mapValues(() => 1),
      eventTimeWindow(tumbling('1s'), agg.sum(), { name: 'sums' }),
      foreachBatch(() => undefined),
    );
  }
  return ctx;
}

const CONSISTENCY = 'SELECT (SELECT sum(value) FROM counts) AS counted, (SELECT value FROM total) AS total';

describe('queryState', () => {
  for (const checkpoint of [true, false]) {
    it(`sees every operator as of one committed batch while batches commit (${checkpoint ? 'LevelDB checkpoint' : 'no checkpoint'})`, async () => {
      const clock = new ManualClock();
      const ctx = job(clock, checkpoint);
      await ctx.start();
      await clock.advance(1000);
      let done = false;
      const running = clock.advance(25_000).finally(() => {
        done = true;
      });
      const seen: StateQueryResult[] = [];
      while (!done) seen.push(await queryState(ctx, CONSISTENCY));
      await running;
      seen.push(await queryState(ctx, CONSISTENCY));
      await ctx.stop();
      const batches = new Set(seen.map((result) => result.batchId));
      expect(batches.size).toBeGreaterThanOrEqual(3);
      for (const { rows, batchId } of seen) {
        const [{ counted, total }] = rows as [{ counted: number; total: number }];
        expect(counted).toBe(total);
        if (batchId !== undefined) expect(total).toBe(4 * (batchId + 1));
      }
      expect(seen.at(-1)?.batchId).toBe(25);
    });
  }

  it('exposes event-time windows with their bounds, and types the columns', async () => {
    const clock = new ManualClock();
    const ctx = job(clock, true);
    await ctx.start();
    await clock.advance(2000);
    const result = await queryState(ctx, 'SELECT key, window_start, window_end, value FROM sums ORDER BY window_start, key');
    await ctx.stop();
    expect(result.batchId).toBe(1);
    expect(result.columns).toEqual([
      { name: 'key', type: 'VARCHAR' },
      { name: 'window_start', type: 'TIMESTAMP' },
      { name: 'window_end', type: 'TIMESTAMP' },
      { name: 'value', type: 'DOUBLE' },
    ]);
    // Records 0..7 at 0..700 ms: the window [0, 1 s) is open.
    expect(result.rows).toEqual([
      { key: 'user-0', window_start: new Date(0), window_end: new Date(1000), value: 3 },
      { key: 'user-1', window_start: new Date(0), window_end: new Date(1000), value: 3 },
      { key: 'user-2', window_start: new Date(0), window_end: new Date(1000), value: 2 },
    ]);
  });

  it('refuses anything but one SELECT, and reads no file', async () => {
    const clock = new ManualClock();
    const ctx = job(clock, false);
    await expect(queryState(ctx, 'SELECT 1')).rejects.toThrow(/not started yet/);
    await ctx.start();
    await clock.advance(1000);
    await expect(queryState(ctx, 'DELETE FROM counts')).rejects.toThrow(/read-only: give one SELECT/);
    await expect(queryState(ctx, 'SELECT 1; SELECT 2')).rejects.toThrow(/exactly one SELECT statement \(the query holds 2\)/);
    await expect(queryState(ctx, 'CREATE TABLE x AS SELECT 1')).rejects.toThrow(/read-only/);
    await expect(queryState(ctx, "SELECT * FROM read_csv('/etc/hostname')")).rejects.toThrow(/disabled|external/i);
    await expect(queryState(ctx, 'SELECT nope FROM counts')).rejects.toMatchObject({ code: 'SQL_FAILED' });
    await ctx.stop();
    await expect(queryState(ctx, 'SELECT 1')).rejects.toThrow(/stopped/);
  });
});

describe('state tables', () => {
  it("give an object state's fields as columns (JSON text for what SQL cannot hold), and keep a state whole when a field is named like the key column", async () => {
    const clock = new ManualClock();
    const ctx = new StreamingContext({ batchInterval: 1000, clock });
    const input = ctx.queueStream([[['a', 1], ['b', 2], ['a', 3]]] as [string, number][][], { name: 'pairs' });
    input.pipe(
      updateStateByKey((vs: number[], s: { n: number; seen: Set<number> } | undefined) => ({ n: (s?.n ?? 0) + vs.length, seen: new Set([...(s?.seen ?? []), ...vs]) }), { name: 'objects' }),
      foreachBatch(() => undefined),
    );
    input.pipe(updateStateByKey((vs: number[]) => ({ key: 'shadow', n: vs.length }), { name: 'shadowing' }), foreachBatch(() => undefined));
    await ctx.start();
    await clock.advance(1000);
    const objects = await queryState(ctx, "SELECT key, n, seen, json_extract(seen, '$.$set[0]') AS first FROM objects ORDER BY key");
    const shadowing = await queryState(ctx, 'SELECT key, value FROM shadowing ORDER BY key');
    await ctx.stop();
    expect(objects.columns.map((c) => `${c.name} ${c.type}`)).toEqual(['key VARCHAR', 'n DOUBLE', 'seen VARCHAR', 'first VARCHAR']);
    expect(objects.rows).toEqual([
      { key: 'a', n: 2, seen: '{"$set":[1,3]}', first: '1' },
      { key: 'b', n: 1, seen: '{"$set":[2]}', first: '2' },
    ]);
    expect(shadowing.rows).toEqual([
      { key: 'a', value: '{"key":"shadow","n":2}' },
      { key: 'b', value: '{"key":"shadow","n":1}' },
    ]);
  });
});

describe('queryCheckpoint', () => {
  it("queries a stopped job's checkpoint", async () => {
    const clock = new ManualClock();
    const ctx = job(clock, true);
    await ctx.start();
    await clock.advance(3000);
    await ctx.stop();
    const result = await queryCheckpoint(path(), 'SELECT key, value FROM counts ORDER BY key');
    expect(result).toEqual({
      batchId: 2,
      columns: [
        { name: 'key', type: 'VARCHAR' },
        { name: 'value', type: 'DOUBLE' },
      ],
      rows: [
        { key: 'user-0', value: 4 },
        { key: 'user-1', value: 4 },
        { key: 'user-2', value: 4 },
      ],
    });
  });
});
