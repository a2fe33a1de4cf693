import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { map, reduceByKey, SluiceError, type DStream, type Pair } from 'sluice';
import { sql } from 'sluice/sql';
import { runBatches } from 'sluice/testing';

async function failure(run: Promise<unknown>): Promise<SluiceError> {
  const error = await run.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SluiceError);
  return error as SluiceError;
}

describe('sql over each batch', () => {
  it('runs the query over each batch as the table batch, its rows the output', async () => {
    const out = await runBatches(
      [
        [
          { user: 'a', amount: 2 },
          { user: 'b', amount: 3 },
          { user: 'a', amount: 5 },
        ],
        [],
        [{ user: 'b', amount: 1 }],
      ],
      (s) => s.pipe(sql('SELECT user, sum(amount) AS total, count(*) AS n FROM batch GROUP BY user ORDER BY user', { schema: { user: 'VARCHAR', amount: 'DOUBLE' } })),
    );
    expect(out).toEqual([
      [
        { user: 'a', total: 7, n: 2 },
        { user: 'b', total: 3, n: 1 },
      ],
      [],
      [{ user: 'b', total: 1, n: 1 }],
    ]);
  });

  it('gives an aggregate over an empty batch one row when the schema is declared', async () => {
    const out = await runBatches([[], [{ x: 1 }]], (s) => s.pipe(sql('SELECT count(*) AS n FROM batch', { schema: { x: 'BIGINT' } })));
    expect(out).toEqual([[{ n: 0 }], [{ n: 1 }]]);
  });

  it('infers the columns from the first batch with records, and gives nothing before it', async () => {
    const when = new Date(Date.UTC(2026, 0, 2));
    const out = await runBatches([[], [{ s: 'x', n: 1.5, b: true, big: 7n, t: when }], [{ s: 'y', n: 2, b: false, big: 8n, t: when }]], (s) =>
      s.pipe(sql('SELECT s, n, b, big, t, typeof(n) AS tn, typeof(big) AS tb FROM batch')),
    );
    expect(out).toEqual([[], [{ s: 'x', n: 1.5, b: true, big: 7, t: when, tn: 'DOUBLE', tb: 'BIGINT' }], [{ s: 'y', n: 2, b: false, big: 8, t: when, tn: 'DOUBLE', tb: 'BIGINT' }]]);
  });

  it('reads [key, value] pairs as columns key and value, or key and the fields of an object value', async () => {
    const scalar = await runBatches([[['a', 1], ['b', 2], ['a', 3]]], (s) => s.pipe(sql('SELECT key, sum(value) AS v FROM batch GROUP BY key ORDER BY key')));
    expect(scalar).toEqual([[{ key: 'a', v: 4 }, { key: 'b', v: 2 }]]);
    const objects = await runBatches([[['a', { n: 1, tag: 'x' }], ['a', { n: 2, tag: 'y' }]]], (s) => s.pipe(sql('SELECT key, sum(n) AS n, string_agg(tag, \'\' ORDER BY tag) AS tags FROM batch GROUP BY key')));
    expect(objects).toEqual([[{ key: 'a', n: 3, tags: 'xy' }]]);
  });

  it('gives wide integers as numbers when safe, else bigints; as bigints with bigints: bigint', async () => {
    const input = [[{ v: 2n ** 62n }, { v: 2n ** 62n }, { v: 1n }]];
    const asNumbers = await runBatches(input, (s) => s.pipe(sql('SELECT sum(v) AS s, count(*) AS n, min(v) AS m FROM batch', { schema: { v: 'BIGINT' } })));
    expect(asNumbers).toEqual([[{ s: 2n ** 63n + 1n, n: 3, m: 1 }]]);
    const asBigints = await runBatches(input, (s) => s.pipe(sql('SELECT count(*) AS n FROM batch', { schema: { v: 'BIGINT' }, bigints: 'bigint' })));
    expect(asBigints).toEqual([[{ n: 3n }]]);
  });

  it('fails the batch, naming the field, the table, the record and the batch, when a record disagrees with the schema', async () => {
    const error = await failure(
      runBatches([[{ user: 'a', amount: 1 }], [{ user: 'b', amount: 2 }, { user: 'c', amount: 'three' }]], (s) => s.pipe(sql('SELECT * FROM batch', { name: 'totals' }))),
    );
    expect(error.code).toBe('SQL_FAILED');
    expect(error.operator).toBe('totals');
    expect(error.batchId).toBe(1);
    expect(error.message).toMatch(/field 'amount' of table 'batch' is DOUBLE, but record 1 of batch 1 holds the string "three"/);
  });

  it('fails on a declared schema too, and on a field null in every record of the first batch', async () => {
    const declared = await failure(runBatches([[{ n: 1.5 }]], (s) => s.pipe(sql('SELECT * FROM batch', { schema: { n: 'BIGINT' } }))));
    expect(declared.message).toMatch(/field 'n' of table 'batch' is BIGINT, but record 0 of batch 0 holds the number 1.5/);
    const unknown = await failure(runBatches([[{ n: null }]], (s) => s.pipe(sql('SELECT * FROM batch'))));
    expect(unknown.message).toMatch(/field 'n' of table 'batch' is null or missing in every record of the first batch/);
  });

  it('fails at start for a query that does not parse, or does not bind against a declared schema', async () => {
    const syntax = await failure(runBatches([[{ n: 1 }]], (s) => s.pipe(sql('SELEC n FROM batch', { name: 'bad' }))));
    expect(syntax.code).toBe('SQL_FAILED');
    expect(syntax.operator).toBe('bad');
    expect(syntax.batchId).toBeUndefined();
    expect(syntax.message).toMatch(/The SQL query of bad does not parse/);
    const binding = await failure(runBatches([[{ n: 1 }]], (s) => s.pipe(sql('SELECT m FROM batch', { schema: { n: 'DOUBLE' } }))));
    expect(binding.batchId).toBeUndefined();
    expect(binding.message).toMatch(/does not prepare against its tables batch\(n DOUBLE\).*"m" not found/s);
  });

  it('fails the first batch with records for a query that does not bind against inferred columns, and refuses what is not a query', async () => {
    const binding = await failure(runBatches([[], [{ n: 1 }]], (s) => s.pipe(sql('SELECT m FROM batch'))));
    expect(binding.batchId).toBe(1);
    expect(binding.message).toMatch(/does not prepare/);
    const write = await failure(runBatches([[{ n: 1 }]], (s) => s.pipe(sql('DELETE FROM batch', { schema: { n: 'DOUBLE' } }))));
    expect(write.message).toMatch(/is not a query/);
    const two = await failure(runBatches([[{ n: 1 }]], (s) => s.pipe(sql('SELECT 1; SELECT 2'))));
    expect(two.message).toMatch(/holds 2 statements/);
  });

  it('refuses bad arguments at once', () => {
    expect(() => sql('')).toThrow(TypeError);
    expect(() => sql('SELECT 1', { schema: { n: 'FLOAT' as never } })(undefined as never)).toThrow(/use one of VARCHAR/);
    expect(() => sql('SELECT 1', { tables: { t: { xlsx: 'a' } as never } })).toThrow(/csv: path/);
    expect(() => sql('SELECT 1', { bigints: 'string' as never })).toThrow(/bigints/);
  });
});

describe('sql over several streams', () => {
  it('joins the batches of two streams, each its own table', async () => {
    const out = await runBatches(
      {
        orders: [[{ id: 1, amount: 10 }, { id: 2, amount: 20 }], [{ id: 3, amount: 30 }]],
        payments: [[{ id: 2, method: 'card' }, { id: 1, method: 'cash' }], [{ id: 4, method: 'card' }]],
      },
      ({ orders, payments }) =>
        sql(
          { orders, payments } as Record<string, DStream<unknown>>,
          'SELECT o.id, o.amount, p.method FROM orders o LEFT JOIN payments p USING (id) ORDER BY o.id',
          { schemas: { orders: { id: 'BIGINT', amount: 'DOUBLE' }, payments: { id: 'BIGINT', method: 'VARCHAR' } } },
        ),
    );
    expect(out).toEqual([
      [
        { id: 1, amount: 10, method: 'cash' },
        { id: 2, amount: 20, method: 'card' },
      ],
      [{ id: 3, amount: 30, method: null }],
    ]);
  });

  it('refuses a schema for a table that is not an input', async () => {
    await expect(runBatches({ a: [[{ x: 1 }]] }, ({ a }) => sql({ a } as Record<string, DStream<unknown>>, 'SELECT * FROM a', { schemas: { b: { x: 'DOUBLE' } } }))).rejects.toThrow(/declares 'b', which is not an input/);
  });
});

describe('static tables', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-sql-'));
    await writeFile(join(dir, 'customers.csv'), 'id,name,tier\n1,Ada,gold\n2,Bob,silver\n');
    await writeFile(join(dir, 'regions.ndjson'), '{"tier":"gold","discount":0.2}\n{"tier":"silver","discount":0.1}\n');
    const db = await DuckDBInstance.create(':memory:');
    const connection = await db.connect();
    await connection.run(`COPY (SELECT 1 AS id, 'EU' AS region UNION ALL SELECT 2, 'US') TO '${join(dir, 'regions.parquet')}' (FORMAT parquet)`);
    connection.closeSync();
    db.closeSync();
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('joins each batch with tables loaded from CSV, NDJSON and Parquet files at start', async () => {
    const out = await runBatches([[{ customer: 1, amount: 100 }, { customer: 2, amount: 50 }]], (s) =>
      s.pipe(
        sql(
          `SELECT c.name, r.region, b.amount * (1 - d.discount) AS net
           FROM batch b JOIN customers c ON c.id = b.customer JOIN discounts d USING (tier) JOIN regions r ON r.id = c.id ORDER BY c.name`,
          { tables: { customers: { csv: join(dir, 'customers.csv') }, discounts: { ndjson: join(dir, 'regions.ndjson') }, regions: { parquet: join(dir, 'regions.parquet') } } },
        ),
      ),
    );
    expect(out).toEqual([[{ name: 'Ada', region: 'EU', net: 80 }, { name: 'Bob', region: 'US', net: 45 }]]);
  });

  it('fails the start, naming the table and the file, when a file cannot be loaded', async () => {
    const error = await failure(runBatches([[{ x: 1 }]], (s) => s.pipe(sql('SELECT * FROM batch', { name: 'enrich', tables: { missing: { csv: join(dir, 'nope.csv') } } }))));
    expect(error.code).toBe('SQL_FAILED');
    expect(error.operator).toBe('enrich');
    expect(error.message).toMatch(/static table 'missing' could not be loaded from .*nope\.csv/);
  });
});

describe('sql laws', () => {
  it('a GROUP BY with sum and count gives what reduceByKey gives, on random batches', async () => {
    const record = fc.record({ key: fc.constantFrom('a', 'b', 'c', 'd', 'é', ''), amount: fc.integer({ min: -1000, max: 1000 }) });
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(record, { maxLength: 30 }), { minLength: 1, maxLength: 5 }), async (batches) => {
        const bySql = await runBatches(batches, (s) => s.pipe(sql('SELECT key, sum(amount) AS total, count(*) AS n FROM batch GROUP BY key', { schema: { key: 'VARCHAR', amount: 'BIGINT' } })));
        const byReduce = await runBatches(batches, (s) =>
          s.pipe(
            map((r: { key: string; amount: number }): Pair<string, readonly [number, number]> => [r.key, [r.amount, 1]]),
            reduceByKey((x: readonly [number, number], y: readonly [number, number]): readonly [number, number] => [x[0] + y[0], x[1] + y[1]]),
            map(([key, [total, n]]: Pair<string, readonly [number, number]>) => ({ key, total, n })),
          ),
        );
        const sorted = (rows: readonly Record<string, unknown>[]): Record<string, unknown>[] => [...rows].sort((a, b) => String(a['key']).localeCompare(String(b['key'])));
        expect(bySql.map(sorted)).toEqual(byReduce.map(sorted));
      }),
      { numRuns: 25 },
    );
  });

  it('gives the same rows in the same order when a batch runs again (replay), without an ORDER BY', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.record({ k: fc.integer({ min: 0, max: 50 }), v: fc.double({ noNaN: true, min: -1e6, max: 1e6 }) }), { maxLength: 300 }), async (records) => {
        const query = 'SELECT k, sum(v) AS s, list(v) AS vs FROM batch GROUP BY k';
        const first = await runBatches([records], (s) => s.pipe(sql(query, { schema: { k: 'BIGINT', v: 'DOUBLE' } })));
        const again = await runBatches([records], (s) => s.pipe(sql(query, { schema: { k: 'BIGINT', v: 'DOUBLE' } })));
        expect(again).toEqual(first);
      }),
      { numRuns: 15 },
    );
  });
});
