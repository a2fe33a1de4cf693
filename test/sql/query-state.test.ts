import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { foreachBatch, ManualClock, StreamingContext } from 'sluice';
import { queryCheckpoint, queryState } from 'sluice/sql';
import { updateStateByKey } from 'sluice/state';
import { useTempDir } from '../support/temp-dir.js';
import { queryStateJob, queryWhileRunning, type QueryStateJobOptions } from './query-state-job.js';

const dir = useTempDir();
const path = (): string => join(dir(), 'ckpt');

function job(clock: ManualClock, checkpoint: boolean): StreamingContext {
  return queryStateJob(clock, checkpoint ? { checkpoint: { path: path() } } : {});
}

describe('queryState', () => {
  const variants: readonly { readonly title: string; readonly options: () => QueryStateJobOptions; readonly last: number; readonly first?: number }[] = [
    { title: 'LevelDB checkpoint', options: () => ({ checkpoint: { path: path() } }), last: 25 },
    // The state is the last persisted batch's (every third), the windows' results too.
    { title: 'LevelDB checkpoint, interval 3', options: () => ({ checkpoint: { path: path(), interval: 3 } }), last: 26, first: 3000 },
    { title: 'LevelDB checkpoint, pipelined commit', options: () => ({ checkpoint: { path: path() }, pipelinedCommit: true }), last: 25 },
    { title: 'no checkpoint', options: () => ({}), last: 25 },
  ];
  for (const { title, options, last, first = 1000 } of variants) {
    it(`sees every operator, state and window results, as of one committed batch while batches commit (${title})`, async () => {
      const clock = new ManualClock();
      const ctx = queryStateJob(clock, options());
      await ctx.start();
      await clock.advance(first);
      const seen = await queryWhileRunning(ctx, clock, queryState);
      await ctx.stop();
      const batches = new Set(seen.map((result) => result.batchId));
      expect(batches.size).toBeGreaterThanOrEqual(3);
      for (const { rows, batchId } of seen) {
        const [{ counted, total, windowed, at }] = rows as [{ counted: number; total: number; windowed: number; at: number }];
        expect(counted).toBe(total);
        // The window's last result is of the same committed batch as the state.
        expect(windowed).toBe(total);
        expect(batchId).toBeDefined();
        expect(total).toBe(4 * ((batchId as number) + 1));
        expect(at).toBe(1000 * ((batchId as number) + 1));
      }
      expect(seen.at(-1)?.batchId).toBe(last);
    });
  }

  it("exposes an event-time window's open windows as <id>.state, with their bounds, and types the columns", async () => {
    const clock = new ManualClock();
    const ctx = job(clock, true);
    await ctx.start();
    await clock.advance(2000);
    const result = await queryState(ctx, 'SELECT key, window_start, window_end, value FROM "sums.state" ORDER BY window_start, key');
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
  it("starts a window's results afresh after a restart (they are not in the checkpoint), its state restored", async () => {
    const first = new ManualClock();
    const before = queryStateJob(first, { checkpoint: { path: path() } });
    await before.start();
    await first.advance(3000);
    await before.stop();
    const clock = new ManualClock(first.now());
    const ctx = queryStateJob(clock, { checkpoint: { path: path() } });
    await ctx.start();
    expect(await queryState(ctx, 'SELECT * FROM "windowCount"')).toMatchObject({ batchId: 2, rows: [] });
    await clock.advance(1000);
    // The window's own state (its held counts) came back: its next result counts batches 0 to 3.
    expect(await queryState(ctx, 'SELECT epoch_ms(batch_time) AS at, value FROM "windowCount"')).toMatchObject({ batchId: 3, rows: [{ at: 4000, value: 16 }] });
    await ctx.stop();
  });

  it('says which batch it is as of when no store changed since (regression: it gave the batch of the last change)', async () => {
    const clock = new ManualClock();
    const ctx = new StreamingContext({ batchInterval: 1000, clock });
    ctx.queueStream([[['a', 1]]] as [string, number][][], { name: 'pairs' }).pipe(updateStateByKey((vs: number[], n: number | undefined) => (n ?? 0) + vs.length, { name: 'counts' }), foreachBatch(() => undefined));
    await ctx.start();
    await clock.advance(4000);
    const result = await queryState(ctx, 'SELECT key, value FROM counts');
    await ctx.stop();
    expect(result).toMatchObject({ batchId: 3, rows: [{ key: 'a', value: 1 }] });
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
