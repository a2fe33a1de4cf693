import { expect, it } from 'vitest';
import { foreachBatch, join, keyBy, leftOuterJoin, map, transformWith, type Batch, type Pair } from 'sluice';
import { joinTable, leftJoinTable, postgresTable } from 'sluice/postgres';
import { describeWith, POSTGRES } from '../../support/services.js';
import { testPool } from './pg-harness.js';
import { collect, ratesTable, setRates, sourceProgress, tableContext, versionOf, type Rate } from './table-harness.js';

/*
 * postgresTable on a ManualClock: which version of the table each batch joins against. Batches
 * run at 1000, 2000, ...; with refresh 3s the table is loaded at start (epoch 0) and again in the
 * plan of the batches at 4000, 7000, ... (the first batch at 1000 is the origin: epoch e starts
 * at 1000 + 3000 e).
 */

type Payment = Pair<string, number>;

await describeWith(POSTGRES, 'postgresTable on the live server', () => {
  it('joins every batch against the version in force; a change in PostgreSQL shows from the batch that opens the next refresh epoch, never before', async () => {
    const { table, query } = await ratesTable({ eur: 2, usd: 1 });
    const { ctx, clock, progress } = tableContext();
    const rates = postgresTable<Rate, string>(ctx, { pool: testPool(), query, key: (r) => r.code, refresh: '3s', name: 'rates' });
    const payments = ctx.queueStream<Payment>([[['eur', 10], ['usd', 20], ['gbp', 30]], [['eur', 11]], [['usd', 21]], [['eur', 12], ['gbp', 32]], [['eur', 13]]], { name: 'payments' });
    const joined = collect(payments.pipe(joinTable(rates), map(([code, [amount, r]]) => `${code}:${amount * r.rate}`)));
    const left = collect(payments.pipe(leftJoinTable(rates), map(([code, [amount, r]]) => `${code}:${r === undefined ? 'none' : amount * r.rate}`)));
    await ctx.start();
    await clock.advance(1000); // batch 0 (origin, epoch 0)
    await setRates(table, { eur: 2, usd: 3, gbp: 4 });
    await clock.advance(2000); // batches 1 and 2: still epoch 0
    await clock.advance(2000); // batches 3 (4000: epoch 1, loaded again) and 4
    await ctx.stop();
    expect(ctx.failure).toBeUndefined();
    expect([...joined.values()]).toEqual([['eur:20', 'usd:20'], ['eur:22'], ['usd:21'], ['eur:24', 'gbp:128'], ['eur:26']]);
    expect([...left.values()]).toEqual([['eur:20', 'usd:20', 'gbp:none'], ['eur:22'], ['usd:21'], ['eur:24', 'gbp:128'], ['eur:26']]);
    const entries = sourceProgress(progress, 'rates');
    expect(entries.map(versionOf)).toEqual([1, 1, 1, 2, 2]);
    // A batch where the version changes reads its rows; the others read nothing.
    expect(entries.map((e) => e.inputRecords)).toEqual([2, 0, 0, 3, 0]);
    expect(entries.map((e) => e.retries ?? 0)).toEqual([0, 0, 0, 0, 0]);
  });

  it('never changes the table within a batch: a change made while the batch runs shows only from a later refresh', async () => {
    const { table, query } = await ratesTable({ eur: 1 });
    const { ctx, clock } = tableContext();
    const rates = postgresTable<Rate, string>(ctx, { pool: testPool(), query, key: (r) => r.code, refresh: 1000, name: 'rates' });
    const payments = ctx.queueStream<Payment>([[['eur', 1]], [['eur', 1]], [['eur', 1]]]);
    // The first output changes the table in the middle of each batch; the second joins after it.
    let n = 1;
    payments.pipe(foreachBatch(async () => { await setRates(table, { eur: ++n }); }));
    const seen = collect(payments.pipe(joinTable(rates), map(([, [, r]]) => r.rate)));
    await ctx.start();
    await clock.advance(3000);
    await ctx.stop();
    expect(ctx.failure).toBeUndefined();
    // Batch 0 joins the load at start; batch 1 (epoch 1) the rows batch 0 left; batch 2 those of batch 1.
    expect([...seen.values()]).toEqual([[1], [2], [3]]);
  });

  it('gives the same frozen batch to every batch of a version, and makes no new version when a refresh finds the same rows', async () => {
    const { query } = await ratesTable({ eur: 1, usd: 2 });
    const { ctx, clock, progress } = tableContext();
    const rates = postgresTable<Rate, string>(ctx, { pool: testPool(), query, key: (r) => r.code, refresh: 1000, name: 'rates' });
    const batches: Batch<Pair<string, Rate>>[] = [];
    ctx.queueStream<number>([[1], [2], [3]]).pipe(
      transformWith(rates, (_b, tableBatch: Batch<Pair<string, Rate>>) => {
        batches.push(tableBatch);
        return [tableBatch.size];
      }),
      foreachBatch(() => undefined),
    );
    await ctx.start();
    await clock.advance(3000);
    await ctx.stop();
    expect(batches).toHaveLength(3);
    expect(batches[1]).toBe(batches[0]);
    expect(batches[2]).toBe(batches[0]);
    expect(Object.isFrozen(batches[0]?.partitions[0])).toBe(true);
    expect(batches[0]?.toArray()).toEqual([['eur', { code: 'eur', rate: 1 }], ['usd', { code: 'usd', rate: 2 }]]);
    expect(sourceProgress(progress, 'rates').map(versionOf)).toEqual([1, 1, 1]);
  });

  it("works with the core's per-batch join and leftOuterJoin as a stream-static join", async () => {
    const { query } = await ratesTable({ eur: 2 });
    const { ctx, clock } = tableContext();
    const rates = postgresTable<Rate, string>(ctx, { pool: testPool(), query, key: (r) => r.code, refresh: 'never' });
    const payments = ctx.queueStream<{ code: string; amount: number }>([[{ code: 'eur', amount: 5 }, { code: 'chf', amount: 1 }]]).pipe(keyBy((p) => p.code));
    const inner = collect(payments.pipe(join(rates), map(([code, [p, r]]) => [code, p.amount * r.rate])));
    const outer = collect(payments.pipe(leftOuterJoin(rates), map(([code, [, r]]) => [code, r?.rate ?? null])));
    await ctx.start();
    await clock.advance(1000);
    await ctx.stop();
    expect(inner.get(0)).toEqual([['eur', 10]]);
    expect(outer.get(0)).toEqual(expect.arrayContaining([['eur', 2], ['chf', null]]));
  });

  it("onRefreshFailure 'fail' (default): a refresh that fails fails its batch with SOURCE_FAILED naming the query", async () => {
    const { table, query } = await ratesTable({ eur: 1 });
    const { ctx, clock } = tableContext();
    const rates = postgresTable<Rate, string>(ctx, { pool: testPool(), query, key: (r) => r.code, refresh: 1000, name: 'rates' });
    const seen = collect(ctx.queueStream<Payment>([[['eur', 1]], [['eur', 1]]]).pipe(joinTable(rates)));
    await ctx.start();
    await clock.advance(1000);
    await testPool().query(`DROP TABLE "${table}"`);
    await clock.advance(1000);
    expect(ctx.failure?.code).toBe('SOURCE_FAILED');
    expect(ctx.failure?.message).toContain(`Source rates could not load its table`);
    expect(ctx.failure?.message).toContain(table);
    expect([...seen.keys()]).toEqual([0]);
  });

  it("onRefreshFailure 'keepLast': batches go on joining against the version in force, and the next refresh that works brings the new rows", async () => {
    const { table, query } = await ratesTable({ eur: 1 });
    const { ctx, clock, progress } = tableContext();
    const rates = postgresTable<Rate, string>(ctx, { pool: testPool(), query, key: (r) => r.code, refresh: 1000, name: 'rates', onRefreshFailure: 'keepLast' });
    const seen = collect(ctx.queueStream<Payment>([[['eur', 1]], [['eur', 1]], [['eur', 1]], [['eur', 1]]]).pipe(joinTable(rates), map(([, [, r]]) => r.rate)));
    await ctx.start();
    await clock.advance(1000);
    await testPool().query(`ALTER TABLE "${table}" RENAME TO "${table}_away"`);
    await clock.advance(2000);
    await testPool().query(`ALTER TABLE "${table}_away" RENAME TO "${table}"`);
    await setRates(table, { eur: 5 });
    await clock.advance(1000);
    await ctx.stop();
    expect(ctx.failure).toBeUndefined();
    expect([...seen.values()]).toEqual([[1], [1], [1], [5]]);
    expect(sourceProgress(progress, 'rates').map(versionOf)).toEqual([1, 1, 1, 2]);
  });
});

await describeWith(POSTGRES, 'postgresTable in a bounded run', () => {
  it('joins against the version in force when the run begins, and does not keep the run going', async () => {
    const { query } = await ratesTable({ eur: 2 });
    const { ctx } = tableContext();
    const rates = postgresTable<Rate, string>(ctx, { pool: testPool(), query, key: (r) => r.code, refresh: 1000, name: 'rates' });
    const out = collect(ctx.fromIterable<Payment>([['eur', 1], ['eur', 2], ['eur', 3]], { maxRecordsPerBatch: 1 }).pipe(joinTable(rates), map(([, [a, r]]) => a * r.rate)));
    const summary = await ctx.runToCompletion();
    expect(ctx.failure).toBeUndefined();
    expect([...out.values()].flat()).toEqual([2, 4, 6]);
    expect(summary.records).toBe(3 + 1); // the payments, and the table's one row in batch 0
  });
});
