import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { Batch, foreachBatch, ManualClock, SluiceError, StreamingContext, type BatchProgress, type DStream, type OperatorProgress } from 'sluice';
import { levelCheckpoint } from 'sluice/checkpoint';
import type { BatchContext, CheckpointStorage } from 'sluice/extend';
import { postgresSink, type PostgresPool, type PostgresSinkOptions } from 'sluice/postgres';
import { faultyCheckpoint, sinkSuite, type SinkFixture } from 'sluice/testing';
import { useTempDir } from '../../support/temp-dir.js';
import { describeWith, POSTGRES, POSTGRES_URL } from '../../support/services.js';
import { rowsOf, tableName, testPool } from './pg-harness.js';

const dir = useTempDir();

interface Row {
  readonly batch: number;
  readonly index: number;
}

const appendColumns: PostgresSinkOptions<Row>['columns'] = {
  batch: { type: 'integer', value: (r) => r.batch },
  idx: { type: 'integer', value: (r) => r.index },
};

/**
 * The sink behind the kit's adapter: its output runs for one batch with a batch context that
 * knows the batch id and hands it the records, after its participant heard a checkpoint id, as a
 * checkpointed context's start would tell it.
 */
async function sinkFixture(): Promise<SinkFixture<Row>> {
  const table = tableName('suite');
  const ctx = new StreamingContext({ batchInterval: 1000 });
  const output = postgresSink<Row>({ pool: testPool(), table, createTable: true, columns: appendColumns })(ctx.queueStream<Row>());
  for (const participant of ctx.graph.commitParticipants) await participant.initialize?.(undefined, { id: randomUUID(), location: 'suite' });
  return {
    write: (batchId, records) => {
      const bc = { batchId, batchTime: (batchId + 1) * 1000, memo: () => Promise.resolve(Batch.of(records, 2)), reportOperator: () => undefined };
      return output.run(bc as unknown as BatchContext);
    },
    read: () => rowsOf(table, 'batch, idx'),
  };
}

/** A job: rows `{ batch, index }` from a rate source (5 a batch) into `sink`, every progress event kept. */
function rateJob(clock: ManualClock, checkpoint: CheckpointStorage | undefined, sink: (stream: DStream<Row>) => unknown): { ctx: StreamingContext; progress: BatchProgress[] } {
  const ctx = new StreamingContext({ batchInterval: 1000, clock, ...(checkpoint === undefined ? {} : { checkpoint }) });
  const rows = ctx.rateStream({ name: 'rate', rowsPerSecond: 5, startTime: 0, backfill: true, generate: (i) => ({ batch: Math.floor(i / 5), index: i % 5 }) });
  sink(rows);
  const progress: BatchProgress[] = [];
  ctx.addListener((event) => {
    if (event.type === 'batchCompleted') progress.push(event.progress);
  });
  return { ctx, progress };
}

/** Runs `n` batches (fewer when one fails) and stops; returns what stopped the context, if anything. */
async function runBatches(ctx: StreamingContext, clock: ManualClock, n: number): Promise<SluiceError | undefined> {
  await ctx.start();
  for (let i = 0; i < n && ctx.state === 'active'; i++) await clock.advance(1000);
  await ctx.stop();
  return ctx.failure;
}

const sinkOf = (progress: readonly BatchProgress[]): OperatorProgress[] => progress.flatMap((p) => p.operators.filter((o) => o.operator.startsWith('postgresSink')));

await describeWith(POSTGRES, 'postgresSink on the live server', () => {
  sinkSuite({ test: it, factory: sinkFixture });

  it('writes each batch once, reporting what it wrote', async () => {
    const table = tableName('append');
    const clock = new ManualClock();
    const { ctx, progress } = rateJob(clock, levelCheckpoint(join(dir(), 'ckpt')), postgresSink({ connectionString: POSTGRES_URL, table, createTable: true, columns: appendColumns }));
    expect(await runBatches(ctx, clock, 3)).toBeUndefined();
    const rows = await rowsOf(table, 'batch, idx');
    expect(rows).toHaveLength(15);
    expect(rows.slice(0, 6)).toEqual([0, 1, 2, 3, 4].map((idx) => ({ batch: 0, idx })).concat([{ batch: 1, idx: 0 }]));
    expect(sinkOf(progress)).toEqual([0, 1, 2].map(() => ({ operator: `postgresSink:${table}`, recordsWritten: 5, retries: 0, alreadyWritten: false })));
  });

  it('writes nothing twice when the process dies between its transaction and the checkpoint commit', async () => {
    const table = tableName('between');
    const path = join(dir(), 'ckpt');
    const sink = postgresSink<Row>({ pool: testPool(), table, createTable: true, columns: appendColumns });
    // Batch 1's rows are in PostgreSQL, its checkpoint commit fails as a crash there would.
    const clock = new ManualClock();
    const crashed = rateJob(clock, faultyCheckpoint(levelCheckpoint(path), { beforeWrite: (batchId) => batchId === 1 }), sink);
    expect(await runBatches(crashed.ctx, clock, 3)).toBeInstanceOf(SluiceError);
    expect(await rowsOf(table, 'batch, idx')).toHaveLength(10);

    const later = new ManualClock(3000);
    const restarted = rateJob(later, levelCheckpoint(path), sink);
    expect(await runBatches(restarted.ctx, later, 2)).toBeUndefined();
    const rows = await rowsOf(table, 'batch, idx');
    expect(rows.map((r) => `${String(r.batch)}.${String(r.idx)}`)).toEqual(Array.from({ length: rows.length }, (_, i) => `${Math.floor(i / 5)}.${i % 5}`));
    expect(rows.length).toBeGreaterThanOrEqual(20);
    // The replayed batch 1 found itself written.
    expect(sinkOf(restarted.progress)[0]).toMatchObject({ recordsWritten: 0, alreadyWritten: true });
  });

  it('writes a batch in one statement, with or without a checkpoint', async () => {
    const real = testPool();
    const statements: string[] = [];
    // Hands out real connections that note each statement sent on them.
    const pool: PostgresPool = {
      connect: async () => {
        const client = await real.connect();
        return {
          query: (text, values) => {
            statements.push(text);
            return client.query(text, values as unknown[]);
          },
          release: (error) => {
            client.release(error);
          },
          on: (event, listener) => client.on(event, listener),
          off: (event, listener) => client.off(event, listener),
        };
      },
    };
    for (const checkpoint of [undefined, levelCheckpoint(join(dir(), 'ckpt'))]) {
      const table = tableName('statements');
      const clock = new ManualClock();
      const { ctx } = rateJob(clock, checkpoint, postgresSink({ pool, table, createTable: true, columns: appendColumns }));
      await ctx.start();
      statements.length = 0;
      for (let i = 0; i < 3; i++) await clock.advance(1000);
      await ctx.stop();
      expect(ctx.failure).toBeUndefined();
      expect(statements).toHaveLength(3);
      for (const text of statements) expect(text).toMatch(checkpoint === undefined ? /^INSERT INTO/ : /^WITH claim AS \(INSERT INTO "sluice_sink_progress"/);
      expect(await rowsOf(table, 'batch, idx')).toHaveLength(15);
    }
  });

  it('leaves neither rows nor its claim when PostgreSQL refuses a batch, so the batch is written once after a restart', async () => {
    const table = tableName('refused');
    const path = join(dir(), 'ckpt');
    await testPool().query(`CREATE TABLE "${table}" (batch integer NOT NULL, idx integer NOT NULL CHECK (batch <> 1))`);
    const sink = postgresSink<Row>({ pool: testPool(), table, columns: appendColumns });
    const clock = new ManualClock();
    const refused = rateJob(clock, levelCheckpoint(path), sink);
    const error = await runBatches(refused.ctx, clock, 3);
    expect(error).toMatchObject({ code: 'SINK_FAILED', batchId: 1 });
    expect((error as Error).message).toMatch(/check constraint/);
    expect(await rowsOf(table, 'batch, idx')).toHaveLength(5);
    const claimed = await testPool().query(`SELECT batch_id FROM sluice_sink_progress WHERE sink = $1`, [`postgresSink:${table}`]);
    expect(claimed.rows).toEqual([{ batch_id: '0' }]);

    await testPool().query(`ALTER TABLE "${table}" DROP CONSTRAINT "${table}_batch_check"`);
    const later = new ManualClock(2000);
    const restarted = rateJob(later, levelCheckpoint(path), sink);
    expect(await runBatches(restarted.ctx, later, 1)).toBeUndefined();
    const rows = await rowsOf(table, 'batch, idx');
    expect(rows.map((r) => `${String(r.batch)}.${String(r.idx)}`)).toEqual(Array.from({ length: rows.length }, (_, i) => `${Math.floor(i / 5)}.${i % 5}`));
    expect(rows.length).toBeGreaterThanOrEqual(10);
    expect(sinkOf(restarted.progress)[0]).toMatchObject({ recordsWritten: 5, alreadyWritten: false });
  });

  it('upserts: the last record of a key wins, within a batch and across batches', async () => {
    const table = tableName('upsert');
    const clock = new ManualClock();
    const ctx = new StreamingContext({ batchInterval: 1000, clock, checkpoint: levelCheckpoint(join(dir(), 'ckpt')) });
    const batches = [
      [{ card: 'a', total: 1 }, { card: 'b', total: 2 }, { card: 'a', total: 3 }],
      [{ card: 'b', total: 20 }],
      [],
    ];
    let n = 0;
    const input = ctx.rateStream({ name: 'rate', rowsPerSecond: 1, startTime: 0, backfill: true, generate: () => n });
    input.pipe(
      foreachBatch(() => {
        n++;
      }),
    );
    ctx
      .queueStream(batches, { name: 'q' })
      .pipe(
        postgresSink({ pool: testPool(), table, createTable: true, mode: 'upsert', key: ['card'], columns: { card: { type: 'text', value: (r) => r.card }, total: { type: 'double precision', value: (r) => r.total } } }),
      );
    expect(await runBatches(ctx, clock, 3)).toBeUndefined();
    expect(await rowsOf(table, 'card')).toEqual([
      { card: 'a', total: 3 },
      { card: 'b', total: 20 },
    ]);
  });

  it('fails the batch with SINK_FAILED naming the column, record and batch for a value that does not fit', async () => {
    const table = tableName('misfit');
    const clock = new ManualClock();
    const ctx = new StreamingContext({ batchInterval: 1000, clock });
    ctx.queueStream([[{ n: 1 }, { n: 2 ** 40 }]]).pipe(postgresSink({ pool: testPool(), table, createTable: true, columns: { n: { type: 'integer', value: (r) => r.n } } }));
    const error = await runBatches(ctx, clock, 1);
    expect(error).toBeInstanceOf(SluiceError);
    expect(error).toMatchObject({ code: 'SINK_FAILED', batchId: 0 });
    expect((error as Error).message).toMatch(/column 'n' of record 1 of batch 0 is 1099511627776, not an integer that fits integer/);
    expect(await rowsOf(table, 'n')).toEqual([]);
  });

  it('tries again on a new connection when the server killed its connection under a batch, and reports the retry', async () => {
    const table = tableName('retry');
    const clock = new ManualClock();
    const real = testPool();
    let killBefore = -1;
    let batch = 0;
    // Hands out connections; before batch `killBefore`'s, the server terminates the one handed out.
    const pool: PostgresPool = {
      connect: async () => {
        const client = await real.connect();
        if (batch++ === killBefore) {
          // The connection's own errors (the server's notice, then the end of the socket): heard here.
          client.on('error', () => undefined);
          const pid = ((await client.query('SELECT pg_backend_pid() AS pid')).rows[0] as { pid: number }).pid;
          await real.query('SELECT pg_terminate_backend($1)', [pid]);
          for (let gone = false; !gone; ) gone = (await real.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [pid])).rowCount === 0;
        }
        return client;
      },
    };
    const { ctx, progress } = rateJob(clock, levelCheckpoint(join(dir(), 'ckpt')), postgresSink({ pool, table, createTable: true, columns: appendColumns }));
    await ctx.start();
    batch = 0;
    killBefore = 1;
    await clock.advance(1000);
    await clock.advance(1000);
    await ctx.stop();
    expect(ctx.failure).toBeUndefined();
    expect(await rowsOf(table, 'batch, idx')).toHaveLength(10);
    expect(sinkOf(progress).map((p) => p.retries)).toEqual([0, 1]);
  });

  it('fails start with SINK_FAILED naming the server when PostgreSQL cannot be reached', async () => {
    const clock = new ManualClock();
    const ctx = new StreamingContext({ batchInterval: 1000, clock });
    ctx.queueStream([[{ batch: 0, index: 0 }]]).pipe(postgresSink({ connectionString: 'postgres://postgres@127.0.0.1:1/test', table: 'never', retries: 1, columns: appendColumns }));
    const started = ctx.start();
    await expect(started).rejects.toMatchObject({ code: 'SINK_FAILED' });
    await expect(started).rejects.toThrow(/could not get ready to write to table never at 127\.0\.0\.1:1\/test after 2 attempts; check that PostgreSQL is up/);
  });
});

it('refuses options that cannot work, saying what to change', () => {
  const ctx = new StreamingContext({ batchInterval: 1000 });
  const rows = ctx.queueStream<Row>();
  const base = { connectionString: POSTGRES_URL, table: 't', columns: appendColumns };
  expect(() => postgresSink({ ...base, connectionString: undefined } as unknown as PostgresSinkOptions<Row>)).toThrow(/exactly one of pool .* and connectionString/);
  expect(() => postgresSink({ ...base, mode: 'upsert' })).toThrow(/mode 'upsert' needs key/);
  expect(() => postgresSink({ ...base, mode: 'upsert', key: ['nope'] })).toThrow(/key column 'nope' is not one of the columns \(batch, idx\)/);
  expect(() => postgresSink({ ...base, key: ['batch'] })).toThrow(/key is for mode 'upsert'/);
  expect(() => postgresSink({ ...base, table: 'a.b.c' })).toThrow(/'schema.table'/);
  expect(() => postgresSink({ ...base, columns: {} })).toThrow(/at least one column/);
  expect(() => postgresSink({ ...base, columns: { x: { type: 'int' as 'integer', value: () => 1 } } })).toThrow(/column 'x' has type "int"; use one of 'text', 'integer'/);
  rows.pipe(postgresSink(base));
  expect(() => rows.pipe(postgresSink(base))).toThrow(/another postgresSink of this program is named 'postgresSink:t'/);
});
