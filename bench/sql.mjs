// Scenario 11: SQL per batch. sql('SELECT key, sum(value), count(*) ... GROUP BY key') over each
// batch, against reduceByKey doing the same aggregation in the same run, and against DuckDB over
// the whole dataset at once (the floor of the SQL path: one load, one query).
import { BIGINT, DuckDBDataChunk, DuckDBInstance, VARCHAR } from '@duckdb/node-api';
import { mapToPair, reduceByKey } from 'sluice';
import { sql } from 'sluice/sql';
import { keyNames, makeBatch, medianOf, now, row, runsNote, runSluice } from './lib.mjs';

/** @typedef {import('./lib.mjs').BenchEvent} BenchEvent */

const QUERY = 'SELECT key, sum(value) AS total, count(*) AS n FROM batch GROUP BY key';

/** @param {{ scale: number, rounds?: number }} o @returns {Promise<import('./lib.mjs').BenchRow[]>} */
export async function sqlScenario({ scale, rounds = 1 }) {
  const S = '11 sql: GROUP BY key, sum, count';
  const total = Math.round(10_000_000 * scale);
  const keys = keyNames(1000);
  const batchSize = Math.round(100_000 * scale);
  const numBatches = Math.ceil(total / batchSize);
  const events = numBatches * batchSize;
  const batch = (/** @type {number} */ b) => makeBatch({ b, size: batchSize, keys, eventsPerSecond: 100_000 });

  const { sluiceSql, reduce } = await medianOf(rounds, {
    sluiceSql: async () => {
      let sum = 0;
      let count = 0;
      const { ms } = await runSluice({
        numBatches,
        batch,
        // The declared schema picks the columns: `time` stays out of DuckDB.
        build: (input) => input.pipe(sql(QUERY, { schema: { key: 'VARCHAR', value: 'BIGINT' } })),
        onOutput: (rows) => {
          for (const r of rows) {
            sum += /** @type {number} */ (r['total']);
            count += /** @type {number} */ (r['n']);
          }
        },
      });
      return { ms, sum, count };
    },
    reduce: async () => {
      let sum = 0;
      let count = 0;
      const { ms } = await runSluice({
        numBatches,
        batch,
        build: (input) =>
          input.pipe(
            mapToPair((/** @type {BenchEvent} */ e) => [e.key, [e.value, 1]]),
            reduceByKey((/** @type {number[]} */ a, /** @type {number[]} */ b) => [/** @type {number} */ (a[0]) + /** @type {number} */ (b[0]), /** @type {number} */ (a[1]) + /** @type {number} */ (b[1])]),
          ),
        onOutput: (pairs) => {
          for (const [, [s, n]] of pairs) {
            sum += s;
            count += n;
          }
        },
      });
      return { ms, sum, count };
    },
  });

  const whole = await duckdbWhole(numBatches, batch);
  const agree = sluiceSql.sum === reduce.sum && sluiceSql.count === reduce.count && sluiceSql.sum === whole.sum && sluiceSql.count === whole.count;
  const check = `sums and counts ${agree ? 'agree' : `DIFFER (sql ${sluiceSql.sum}/${sluiceSql.count}, reduceByKey ${reduce.sum}/${reduce.count}, whole ${whole.sum}/${whole.count})`}`;
  const shape = `${numBatches} batches of ${batchSize.toLocaleString('en-US')} events over ${keys.length.toLocaleString('en-US')} keys`;
  return [
    row(S, 'sluice sql() vs reduceByKey', events, sluiceSql.ms, {
      baseline: 'reduceByKey (mapToPair [value, 1], sum both) in the same run',
      ratio: reduce.ms / sluiceSql.ms,
      note: `${shape}; reduceByKey ${reduce.ms.toFixed(0)} ms; ${check}${runsNote(sluiceSql, reduce)}`,
    }),
    row(S, 'sluice sql() vs DuckDB on the whole dataset', events, sluiceSql.ms, {
      baseline: 'DuckDB: the same events appended to one table (same data chunks), then one GROUP BY',
      ratio: whole.ms / sluiceSql.ms,
      note: `the whole-dataset floor: ${whole.ms.toFixed(0)} ms (load ${whole.loadMs.toFixed(0)} ms, query ${whole.queryMs.toFixed(0)} ms)`,
    }),
  ];
}

/**
 * DuckDB over the whole dataset: every batch appended (in data chunks of 2,048 rows, as the
 * operator does) to one table, then the query once. Batch generation is not timed.
 *
 * @param {number} numBatches @param {(b: number) => BenchEvent[]} batch
 */
async function duckdbWhole(numBatches, batch) {
  const db = await DuckDBInstance.create(':memory:', { threads: '1' });
  const connection = await db.connect();
  await connection.run('CREATE TABLE events (key VARCHAR, value BIGINT)');
  const chunk = DuckDBDataChunk.create([VARCHAR, BIGINT]);
  let loadMs = 0;
  for (let b = 0; b < numBatches; b++) {
    const events = batch(b);
    const t0 = now();
    const appender = await connection.createAppender('events');
    for (let start = 0; start < events.length; start += 2048) {
      const slice = events.slice(start, start + 2048);
      chunk.setColumns([slice.map((e) => e.key), slice.map((e) => BigInt(e.value))]);
      appender.appendDataChunk(chunk);
    }
    appender.closeSync();
    loadMs += now() - t0;
  }
  const t0 = now();
  const rows = (await connection.runAndReadAll(QUERY.replace('FROM batch', 'FROM events'))).getRowObjectsJS();
  const queryMs = now() - t0;
  let sum = 0;
  let count = 0;
  for (const r of rows) {
    sum += Number(r['total']);
    count += Number(r['n']);
  }
  connection.closeSync();
  db.closeSync();
  return { ms: loadMs + queryMs, loadMs, queryMs, sum, count };
}
