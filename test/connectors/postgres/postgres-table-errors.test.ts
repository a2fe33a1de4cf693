import pino from 'pino';
import { expect, it } from 'vitest';
import { ManualClock, SluiceError, StreamingContext } from 'sluice';
import { time, type WriteAheadLog } from 'sluice/extend';
import { joinTable, postgresTable } from 'sluice/postgres';
import { MemoryWriteAheadLog } from 'sluice/testing';
import { PostgresTableSource, type TableSourceSettings } from '../../../connectors/postgres/table-source.js';
import { describeWith, POSTGRES, POSTGRES_URL } from '../../support/services.js';
import { tableName, testPool } from './pg-harness.js';
import { collect, ratesTable, setRates, type Rate } from './table-harness.js';

/** Starts a context whose only source is a table on `query` (and `options`); returns what start() threw. */
async function startError(query: string, options: { connectionString?: string; maxRows?: number; retries?: number } = {}): Promise<SluiceError> {
  const ctx = new StreamingContext({ batchInterval: 1000, clock: new ManualClock() });
  const connection = options.connectionString === undefined ? { pool: testPool() } : { connectionString: options.connectionString };
  const rates = postgresTable<Rate, string>(ctx, { ...connection, query, key: (r) => r.code, refresh: 'never', name: 'rates', ...(options.maxRows === undefined ? {} : { maxRows: options.maxRows }), ...(options.retries === undefined ? {} : { retries: options.retries }) });
  collect(ctx.queueStream<[string, number]>().pipe(joinTable(rates)));
  const error = await ctx.start().then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(SluiceError);
  return error as SluiceError;
}

function settings(query: string, log?: WriteAheadLog): { settings: TableSourceSettings; env: Parameters<PostgresTableSource<Rate>['start']>[0] } {
  return {
    settings: { pool: testPool(), connectionString: undefined, query: { where: 'the test server', query, params: [], maxRows: 100, retries: 0 }, refreshMs: 1000, onRefreshFailure: 'fail' },
    env: { clock: new ManualClock(), logger: pino({ level: 'silent' }), name: 'rates', ...(log === undefined ? {} : { writeAheadLog: log }) },
  };
}

/** A write-ahead log whose entries a test can damage. */
class DamageableLog extends MemoryWriteAheadLog {
  readonly damaged = new Map<number, string>();
  override async read(from: number, to: number): Promise<string[]> {
    const entries = await super.read(from, to);
    return entries.map((entry, i) => this.damaged.get(from + i) ?? entry);
  }
}

await describeWith(POSTGRES, 'postgresTable errors on the live server', () => {
  it('a query PostgreSQL refuses fails start() with SOURCE_FAILED naming the server and the query, at once', async () => {
    const error = await startError('SELEC code FROM nowhere');
    expect(error.code).toBe('SOURCE_FAILED');
    expect(error.message).toMatch(/Source rates could not load its table from the pool's server: syntax error .*The query: SELEC code FROM nowhere/);
  });

  it('a missing table fails start() with SOURCE_FAILED naming it', async () => {
    const missing = tableName('missing');
    const error = await startError(`SELECT code, rate FROM "${missing}"`, { connectionString: POSTGRES_URL });
    expect(error.code).toBe('SOURCE_FAILED');
    expect(error.message).toContain(`from 127.0.0.1:5432/test: relation "${missing}" does not exist`);
  });

  it('an unreachable server is tried again, then fails start() with SOURCE_FAILED saying how often', async () => {
    const error = await startError('SELECT 1 AS code', { connectionString: 'postgres://postgres@127.0.0.1:1/test', retries: 2 });
    expect(error.code).toBe('SOURCE_FAILED');
    expect(error.message).toContain('from 127.0.0.1:1/test after 3 attempts; check that PostgreSQL is up and reachable');
  });

  it('a query returning more than maxRows rows fails the load without holding them', async () => {
    const error = await startError('SELECT g::text AS code, g AS rate FROM generate_series(1, 50) AS g', { maxRows: 10 });
    expect(error.code).toBe('SOURCE_FAILED');
    expect(error.message).toContain('the query returns more than maxRows = 10 rows');
    const { query } = await ratesTable({ a: 1, b: 2 });
    const ctx = new StreamingContext({ batchInterval: 1000, clock: new ManualClock() });
    const rates = postgresTable<Rate, string>(ctx, { pool: testPool(), query, key: (r) => r.code, refresh: 'never', maxRows: 2 });
    collect(rates);
    await ctx.start();
    await ctx.stop();
  });

  it('refuses malformed options with a TypeError saying what to give', () => {
    const ctx = new StreamingContext({ batchInterval: 1000 });
    const base = { pool: testPool(), query: 'SELECT 1', key: () => 1, refresh: '1m' };
    expect(() => postgresTable(ctx, { ...base, connectionString: POSTGRES_URL })).toThrow(/exactly one of pool .* and connectionString/);
    expect(() => postgresTable(ctx, { ...base, query: ' ; ' })).toThrow(/query must be a SELECT/);
    expect(() => postgresTable(ctx, { ...base, key: 'code' as never })).toThrow(/key must be a function/);
    expect(() => postgresTable(ctx, { ...base, maxRows: 0 })).toThrow(/maxRows must be a positive whole number/);
    expect(() => postgresTable(ctx, { ...base, onRefreshFailure: 'retry' as never })).toThrow(/'fail' or 'keepLast'/);
    expect(() => postgresTable(ctx, { ...base, refresh: '-1s' })).toThrow(RangeError);
  });

  it('a version damaged or deleted in the write-ahead log is SOURCE_OFFSET_UNAVAILABLE naming it; an intact one reads back equal', async () => {
    const { table, query } = await ratesTable({ eur: 1, usd: 2 });
    const log = new DamageableLog();
    const first = settings(query, log);
    const a = new PostgresTableSource<Rate>(first.settings);
    await a.start(first.env);
    const v1 = await a.latestOffset(null, Infinity, time(1000));
    await setRates(table, { eur: 3 });
    const v2 = await a.latestOffset(v1, Infinity, time(2000));
    expect(v2).toMatchObject({ version: 2, rows: 1 });
    await a.stop();
    // A restarted source holds no rows in memory: it reads them from the log.
    const again = settings(query, log);
    const b = new PostgresTableSource<Rate>(again.settings);
    await b.start(again.env);
    expect((await b.versionAt(v1)).rows).toEqual([{ code: 'eur', rate: 1 }, { code: 'usd', rate: 2 }]);
    const [from] = (v2 as { log: [number, number] }).log;
    log.damaged.set(from, Buffer.from('not a chunk').toString('base64'));
    await expect(b.versionAt(v2)).rejects.toMatchObject({ code: 'SOURCE_OFFSET_UNAVAILABLE', message: expect.stringMatching(/version 2 of the table \(1 rows, hash [0-9a-f]{12}\).* is damaged in the write-ahead log/) as unknown });
    await b.stop();
    // Version 1's entries deleted (as a commit of a later version releases them): a source that restarts cannot give it.
    log.release((v2 as { log: [number, number] }).log[0]);
    const last = settings(query, log);
    const c = new PostgresTableSource<Rate>(last.settings);
    await c.start(last.env);
    await expect(c.versionAt(v1)).rejects.toMatchObject({ code: 'SOURCE_OFFSET_UNAVAILABLE', message: expect.stringContaining('version 1 of the table (2 rows') as unknown });
    await c.stop();
  });
});
