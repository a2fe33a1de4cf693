// Scenario 9: connectors. JetStream -> running count per key -> PostgreSQL upsert, against a plain
// JetStream consumer loop and a plain bulk upsert through `pg`, on the same servers in the same run.
// The count is kept by mapWithState (the main pipeline: what a user writes for a running count per
// key) and, reported beside it, by updateStateByKey (which visits every key every batch).
// Skipped (with a note) when NATS or PostgreSQL cannot be reached.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { createConnection } from 'node:net';
import { URL } from 'node:url';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import pg from 'pg';
import { mapToPair, StreamingContext, transform } from 'sluice';
import { jetStreamSource } from 'sluice/nats';
import { postgresSink } from 'sluice/postgres';
import { mapWithState, stateSpec, updateStateByKey } from 'sluice/state';
import { keyNames, makeBatch, medianOf, now, row } from './lib.mjs';

const NATS_URL = process.env.SLUICE_NATS_URL ?? '127.0.0.1:4222';
const POSTGRES_URL = process.env.SLUICE_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** @typedef {{ key: string, value: number }} Message */
/** @typedef {{ count: number, at: number }} Count the running count and the batch time it last changed */

/** @param {string} url `host:port`, or a URL with them @returns {Promise<boolean>} */
function reachable(url) {
  const { hostname, port } = new URL(url.includes('://') ? url : `nats://${url}`);
  return new Promise((resolve) => {
    const socket = createConnection({ host: hostname, port: Number(port) });
    const done = (/** @type {boolean} */ ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * With SLUICE_BENCH_CPU_PROFILE=<file>, profiles what runs until the returned function is called
 * (the bounded Sluice run alone, not the publishing or the baselines) and writes a .cpuprofile.
 * @returns {Promise<(() => Promise<void>) | undefined>}
 */
async function startProfile() {
  const file = process.env.SLUICE_BENCH_CPU_PROFILE;
  if (file === undefined) return undefined;
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  return async () => {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(file, JSON.stringify(profile));
    session.disconnect();
  };
}

/** @param {number[]} sorted @param {number} q */
const quantile = (sorted, q) => /** @type {number} */ (sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]);

/** @param {{ scale: number, rounds?: number }} o @returns {Promise<import('./lib.mjs').BenchRow[]>} */
export async function connectorsScenario({ scale, rounds = 1 }) {
  const S = '9 connectors: JetStream->count->PG upsert';
  if (!(await reachable(NATS_URL)) || !(await reachable(POSTGRES_URL))) {
    console.log(`${S}: SKIPPED, NATS (${NATS_URL}) or PostgreSQL (${POSTGRES_URL}) is unreachable`);
    return [];
  }
  const total = Math.round(100_000 * scale);
  const keys = keyNames(Math.round(10_000 * scale));
  // Batches of the bounded run (runToCompletion cuts by records): 10 of them.
  const batchSize = Math.round(10_000 * scale);
  /** @type {Message[]} */
  const messages = makeBatch({ b: 0, size: total, keys, eventsPerSecond: 1000 }).map((e) => ({ key: e.key, value: e.value }));
  /** @type {Map<string, number>} */
  const expected = new Map();
  for (const m of messages) expected.set(m.key, (expected.get(m.key) ?? 0) + 1);

  const stream = `sluice_bench_${randomBytes(5).toString('hex')}`;
  const subject = `${stream}.e`;
  /** @type {string[]} */
  const tables = [];
  const table = (/** @type {string} */ what) => {
    const name = `sluice_bench_${what}_${randomBytes(4).toString('hex')}`;
    tables.push(name);
    return name;
  };
  const nc = await connect({ servers: NATS_URL });
  const jsm = await jetstreamManager(nc);
  const pool = new pg.Pool({ connectionString: POSTGRES_URL, max: 1 });
  try {
    // Pre-publish, untimed: 1000 publishes in flight, each acknowledged.
    await jsm.streams.add({ name: stream, subjects: [`${stream}.>`] });
    const js = jetstream(nc);
    const payloads = messages.map((m) => JSON.stringify(m));
    for (let i = 0; i < payloads.length; i += 1000) await Promise.all(payloads.slice(i, i + 1000).map((p) => js.publish(subject, p)));

    /** Checks a table against the expected counts. @param {string} name */
    const check = async (name) => {
      const { rows } = await pool.query(`SELECT key, count FROM "${name}"`);
      let bad = rows.length === expected.size ? 0 : 1;
      for (const r of rows) if (expected.get(r.key) !== Number(r.count)) bad++;
      return bad === 0 ? 'agrees' : `DIFFERS (${rows.length} rows, ${bad} wrong)`;
    };

    /** @param {string} name @param {(v: any) => number} countOf the count in a pair's value */
    const sink = (name, countOf) =>
      postgresSink({
        connectionString: POSTGRES_URL,
        table: name,
        mode: 'upsert',
        key: ['key'],
        createTable: true,
        columns: {
          key: { type: 'text', value: (/** @type {readonly [string, unknown]} */ [k]) => k },
          count: { type: 'bigint', value: (/** @type {readonly [string, unknown]} */ [, v]) => countOf(v) },
        },
      });
    /**
     * The Sluice job: running count per key, only the keys a batch changed reach the sink (the
     * sink keeps a key's last count of the batch).
     * @param {StreamingContext} ctx @param {number} maxRecordsPerBatch @param {string} name @param {'mapWithState' | 'updateStateByKey'} how
     */
    const build = (ctx, maxRecordsPerBatch, name, how) => {
      const pairs = jetStreamSource(ctx, { servers: NATS_URL, stream, format: 'json', maxRecordsPerBatch }).pipe(mapToPair((/** @type {{ value: Message }} */ r) => [r.value.key, 1]));
      if (how === 'mapWithState') {
        pairs
          .pipe(
            mapWithState(
              stateSpec((/** @type {string} */ key, /** @type {number | undefined} */ one, /** @type {import('sluice/state').State<number>} */ state) => {
                const count = (state.getOption() ?? 0) + (one ?? 0);
                state.update(count);
                return /** @type {const} */ ([key, count]);
              }),
            ),
          )
          .pipe(sink(name, (n) => n));
        return;
      }
      pairs
        .pipe(
          updateStateByKey((/** @type {number[]} */ ones, /** @type {Count | undefined} */ s, { batchTime }) => (ones.length === 0 ? s : { count: (s?.count ?? 0) + ones.length, at: batchTime })),
          transform((batch, batchTime) => batch.filter(([, s]) => s.at === batchTime)),
        )
        .pipe(sink(name, (s) => s.count));
    };

    // The rows of each bounded batch (the keys it changed, with their running counts): baseline (b)'s input.
    /** @type {{ keys: string[], counts: number[] }[]} */
    const upserts = [];
    {
      /** @type {Map<string, number>} */
      const running = new Map();
      for (let i = 0; i < total; i += batchSize) {
        /** @type {Set<string>} */
        const changed = new Set();
        for (const m of messages.slice(i, i + batchSize)) {
          running.set(m.key, (running.get(m.key) ?? 0) + 1);
          changed.add(m.key);
        }
        upserts.push({ keys: [...changed], counts: [...changed].map((k) => /** @type {number} */ (running.get(k))) });
      }
    }

    /**
     * Sluice, bounded: runToCompletion, timed from the call (start, connections, CREATE TABLE) to the end.
     * @param {'mapWithState' | 'updateStateByKey'} how
     */
    const bounded = async (how) => {
      const name = table(how === 'mapWithState' ? 'mws' : 'usbk');
      const ctx = new StreamingContext({ batchInterval: 100 });
      build(ctx, batchSize, name, how);
      /** @type {number[]} */
      const times = [];
      ctx.addListener((e) => {
        if (e.type === 'batchCompleted' && e.progress.numInputRecords > 0) times.push(e.progress.processingTimeMs);
      });
      const profile = how === 'mapWithState' ? await startProfile() : undefined;
      const t0 = now();
      const summary = await ctx.runToCompletion({ maxRecordsPerBatch: batchSize });
      const ms = now() - t0;
      await profile?.();
      const sorted = [...times].sort((a, b) => a - b);
      const busy = times.reduce((a, b) => a + b, 0);
      return { ms, wall: ms, busy, p50: quantile(sorted, 0.5), p99: quantile(sorted, 0.99), batches: summary.batches, records: summary.records, check: await check(name) };
    };

    const { sluice, update, consumer, upsert } = await medianOf(rounds, {
      sluice: () => bounded('mapWithState'),
      update: () => bounded('updateStateByKey'),
      // (a) An ordered consumer reading every message and parsing its JSON.
      consumer: async () => {
        const t0 = now();
        const c = await js.consumers.get(stream);
        const iter = await c.consume({ max_messages: 10_000 });
        let n = 0;
        let sum = 0;
        for await (const m of iter) {
          sum += /** @type {Message} */ (JSON.parse(m.string())).value;
          if (++n === total) break;
        }
        const ms = now() - t0;
        await c.delete().catch(() => undefined);
        return { ms, n, sum };
      },
      // (b) One unnest upsert statement per batch, the same rows the sink writes.
      upsert: async () => {
        const name = table('pg');
        await pool.query(`CREATE TABLE "${name}" (key text PRIMARY KEY, count bigint)`);
        const sql = `INSERT INTO "${name}" (key, count) SELECT * FROM unnest($1::text[], $2::bigint[]) ON CONFLICT (key) DO UPDATE SET count = EXCLUDED.count`;
        const t0 = now();
        for (const u of upserts) await pool.query(sql, [u.keys, u.counts]);
        const ms = now() - t0;
        return { ms, check: await check(name) };
      },
    });

    // Sluice, streaming: 100 ms batches on the wall clock over the pre-published stream, batches
    // capped at what the bounded run read in 50 ms (SLUICE_BENCH_S9_BATCH=<n> sets the cap),
    // timed from start() to the batch that read the last message; then 5 batches without input
    // show each batch's fixed cost.
    const perBatch = Number(process.env.SLUICE_BENCH_S9_BATCH ?? 0) || Math.max(100, Math.round((total / sluice.ms) * 50));
    const streaming = await (async () => {
      const name = table('stream');
      const ctx = new StreamingContext({ batchInterval: 100 });
      build(ctx, perBatch, name, 'mapWithState');
      /** @type {number[]} */
      const times = [];
      /** @type {number[]} */
      const empty = [];
      /** @type {number[]} */
      const delays = [];
      let read = 0;
      let ms = 0;
      const t0 = now();
      /** @type {() => void} */
      let finished = () => undefined;
      const done = new Promise((resolve) => void (finished = () => resolve(undefined)));
      ctx.addListener((e) => {
        if (e.type !== 'batchCompleted') return;
        const p = e.progress;
        if (read >= total) {
          if (empty.push(p.processingTimeMs) === 5) finished();
          return;
        }
        if (p.numInputRecords === 0 && read === 0) return;
        times.push(p.processingTimeMs);
        delays.push(p.schedulingDelayMs);
        read += p.numInputRecords;
        if (read >= total) ms = now() - t0;
      });
      await ctx.start();
      await Promise.race([done, ctx.awaitTermination()]);
      await ctx.stop();
      const sorted = [...times].sort((a, b) => a - b);
      const quarter = Math.max(1, Math.floor(delays.length / 4));
      const mean = (/** @type {number[]} */ xs) => Math.round(xs.reduce((a, b) => a + b, 0) / xs.length);
      return {
        ms,
        batches: times.length,
        p50: quantile(sorted, 0.5),
        p99: quantile(sorted, 0.99),
        max: sorted.at(-1) ?? 0,
        empty: quantile([...empty].sort((a, b) => a - b), 0.5),
        delay: `max ${Math.max(...delays)} ms, mean ${mean(delays.slice(0, quarter))} ms in the first quarter of the batches and ${mean(delays.slice(-quarter))} ms in the last`,
        check: await check(name),
      };
    })();

    const rate = (/** @type {number} */ ms) => total / ms;
    const slower = Math.min(rate(consumer.ms), rate(upsert.ms));
    const runs = (/** @type {{ runs: number[] }} */ v) => v.runs.map((t) => t.toFixed(0)).join(', ');
    const many = sluice.runs.length > 1 ? `; median of ${sluice.runs.length} interleaved runs (mapWithState ${runs(sluice)} ms, updateStateByKey ${runs(update)} ms, consumer ${runs(consumer)} ms, upsert ${runs(upsert)} ms)` : '';
    const sum = messages.reduce((s, m) => s + m.value, 0);
    const boundedNote = (/** @type {typeof sluice} */ v) =>
      `first run: batches busy ${v.busy.toFixed(0)} ms of ${v.wall.toFixed(0)} (the rest: start, connections, CREATE TABLE, stop), processingTimeMs p50 ${v.p50} ms, p99 ${v.p99} ms; table ${v.check}`;
    return [
      row(S, 'sluice runToCompletion, mapWithState', total, sluice.ms, {
        baseline: 'slower of (a), (b)',
        ratio: rate(sluice.ms) / slower,
        target: '>= 0.5',
        note: `${total} messages over ${keys.length} keys, ${sluice.batches} batches of <= ${batchSize}; mapWithState emits [key, count] per record, the upsert sink keeps each key's last; ${boundedNote(sluice)}${many}`,
      }),
      row(S, 'sluice runToCompletion, updateStateByKey', total, update.ms, {
        baseline: 'slower of (a), (b)',
        ratio: rate(update.ms) / slower,
        note: `updateStateByKey (state { count, at }, visits every key every batch), transform keeps the keys whose at is the batch time; ${boundedNote(update)}`,
      }),
      row(S, '(a) ordered consumer + JSON.parse', total, consumer.ms, { baseline: '(a)', ratio: rate(sluice.ms) / rate(consumer.ms), note: consumer.n === total && consumer.sum === sum ? 'read every message, sums agree' : `READ ${consumer.n}, sum ${consumer.sum} vs ${sum}` }),
      row(S, '(b) pg unnest upsert per batch', total, upsert.ms, { baseline: '(b)', ratio: rate(sluice.ms) / rate(upsert.ms), note: `${upserts.length} statements, ${upserts.reduce((n, u) => n + u.keys.length, 0)} rows; table ${upsert.check}` }),
      row(S, 'sluice streaming, 100 ms batches, mapWithState', total, streaming.ms, {
        note: `maxRecordsPerBatch ${perBatch}, ${streaming.batches} batches with input; processingTimeMs p50 ${streaming.p50} ms, p99 ${streaming.p99} ms, max ${streaming.max} ms (a batch without input: ${streaming.empty} ms); scheduling delay ${streaming.delay}; table ${streaming.check}`,
      }),
    ];
  } finally {
    await jsm.streams.delete(stream).catch(() => undefined);
    for (const name of tables) await pool.query(`DROP TABLE IF EXISTS "${name}"`).catch(() => undefined);
    await pool.query(`DELETE FROM sluice_sink_progress WHERE sink LIKE 'postgresSink:sluice_bench_%'`).catch(() => undefined);
    await pool.end();
    await nc.close();
  }
}
