import { join } from 'node:path';
import { expect, it } from 'vitest';
import { ManualClock, map, type Pair } from 'sluice';
import { levelCheckpoint } from 'sluice/checkpoint';
import { joinTable, postgresTable } from 'sluice/postgres';
import { faultyCheckpoint } from 'sluice/testing';
import type { CheckpointStorage } from 'sluice/extend';
import { describeWith, POSTGRES } from '../../support/services.js';
import { useTempDir } from '../../support/temp-dir.js';
import { testPool } from './pg-harness.js';
import { collect, ratesTable, setRates, sourceProgress, tableContext, versionOf, type Rate } from './table-harness.js';

/*
 * Replay against the logged version: a job joins a replayable rate source with a table refreshed
 * every 3 s while a test changes the table between batches. The crashed run's batch 3 (at 4000,
 * the first of refresh epoch 1, which loaded version 2) fails at its commit as a crash would; the
 * table then changes again before the restart, and the replayed batch 3 still joins against
 * version 2, read from the write-ahead log. The outputs equal those of a run that never crashed.
 */

const dir = useTempDir();
const states = [{ eur: 1, usd: 10 }, { eur: 2, usd: 20 }, { eur: 3, usd: 30 }];

function job(checkpoint: CheckpointStorage, query: string, clock: ManualClock) {
  const { ctx, progress } = tableContext(checkpoint, clock);
  const rates = postgresTable<Rate, string>(ctx, { pool: testPool(), query, key: (r) => r.code, refresh: '3s', name: 'rates' });
  const payments = ctx.rateStream({ name: 'payments', rowsPerSecond: 2, startTime: 0, backfill: true, maxRecordsPerBatch: 2, generate: (i): Pair<string, number> => [i % 2 === 0 ? 'eur' : 'usd', i] });
  const out = collect(payments.pipe(joinTable(rates), map(([code, [i, r]]) => `${i}:${code}:${r.rate}`)));
  return { ctx, progress, out };
}

await describeWith(POSTGRES, 'postgresTable replay on the live server', () => {
  it('a batch replayed after a crash joins against the version it was planned with, though PostgreSQL changed since; the outputs equal a run that never crashed', async () => {
    // The run that never crashed: the table changes after batch 0 and after batch 3.
    const straight = await ratesTable(states[0] as Record<string, number>);
    const clock = new ManualClock();
    const a = job(levelCheckpoint(join(dir(), 'straight')), straight.query, clock);
    await a.ctx.start();
    await clock.advance(1000);
    await setRates(straight.table, states[1] as Record<string, number>);
    await clock.advance(3000);
    await setRates(straight.table, states[2] as Record<string, number>);
    await clock.advance(3000);
    await a.ctx.stop();
    expect(a.ctx.failure).toBeUndefined();
    expect(sourceProgress(a.progress, 'rates').map(versionOf)).toEqual([1, 1, 1, 2, 2, 2, 3]);

    // The crashed run: batch 3's commit fails; the table changes before the restart.
    const crashed = await ratesTable(states[0] as Record<string, number>);
    const path = join(dir(), 'crashed');
    const first = new ManualClock();
    const b = job(faultyCheckpoint(levelCheckpoint(path), { beforeWrite: (batchId) => batchId === 3 }), crashed.query, first);
    await b.ctx.start();
    await first.advance(1000);
    await setRates(crashed.table, states[1] as Record<string, number>);
    await first.advance(3000);
    expect(b.ctx.failure?.code).toBe('COMMIT_FAILED');
    await b.ctx.stop();
    await setRates(crashed.table, states[2] as Record<string, number>);
    const later = new ManualClock(4000);
    const c = job(levelCheckpoint(path), crashed.query, later);
    await c.ctx.start();
    await later.advance(3000);
    await c.ctx.stop();
    expect(c.ctx.failure).toBeUndefined();
    // Batch 3 was replayed with version 2, its rows read back from the log; batch 6 opened epoch 2.
    expect(sourceProgress(c.progress, 'rates').map((e) => [versionOf(e), e.inputRecords])).toEqual([[2, 2], [2, 0], [2, 0], [3, 2]]);
    const outputs = new Map([...b.out].filter(([batchId]) => batchId < 3).concat([...c.out]));
    expect([...outputs]).toEqual([...a.out]);
    expect(a.out.get(3)).toEqual(['6:eur:2', '7:usd:20']);
    expect(a.out.get(6)).toEqual(['12:eur:3', '13:usd:30']);
  });

  it("a restart keeps the logged version until the next refresh epoch, but loads the table again when it is never refreshed or its query changed", async () => {
    const { table, query } = await ratesTable({ eur: 1 });
    const run = async (path: string, options: { refresh: string; query: string }, at: number): Promise<number[]> => {
      const clock = new ManualClock(at);
      const { ctx, progress } = tableContext(levelCheckpoint(path), clock);
      const rates = postgresTable<Rate, string>(ctx, { pool: testPool(), query: options.query, key: (r) => r.code, refresh: options.refresh, name: 'rates' });
      collect(ctx.rateStream({ name: 'payments', rowsPerSecond: 1, startTime: 0, backfill: true, generate: (): Pair<string, number> => ['eur', 1] }).pipe(joinTable(rates)));
      await ctx.start();
      await clock.advance(1000);
      await ctx.stop();
      expect(ctx.failure).toBeUndefined();
      return sourceProgress(progress, 'rates').map(versionOf);
    };
    const periodic = join(dir(), 'periodic');
    const never = join(dir(), 'never');
    expect(await run(periodic, { refresh: '1h', query }, 0)).toEqual([1]);
    expect(await run(never, { refresh: 'never', query }, 0)).toEqual([1]);
    await setRates(table, { eur: 2 });
    expect(await run(periodic, { refresh: '1h', query }, 1000)).toEqual([1]);
    expect(await run(never, { refresh: 'never', query }, 1000)).toEqual([2]);
    expect(await run(periodic, { refresh: '1h', query: `${query} LIMIT 5` }, 2000)).toEqual([2]);
  });
});
