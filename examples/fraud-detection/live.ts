import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import pg from 'pg';
import { map, StreamingContext } from 'sluice';
import { levelCheckpoint } from 'sluice/checkpoint';
import { jetStreamSink, jetStreamSource } from 'sluice/nats';
import { postgresSink } from 'sluice/postgres';
import { generateTransactions, type GenerateOptions, type Transaction } from './generate.js';
import { fraudAlerts, type Alert } from './rules.js';

/** Options of {@link runFraudLive}. */
export interface FraudLiveOptions extends GenerateOptions {
  /** NATS servers (default `127.0.0.1:4222`). */
  readonly servers?: string;
  /** PostgreSQL (default `postgres://postgres@127.0.0.1:5432/test`). */
  readonly connectionString?: string;
  /** The JetStream stream: transactions on `<stream>.tx`, alerts on `<stream>.alerts` (default `SLUICE_FRAUD`). */
  readonly stream?: string;
  /** The table of the latest alert per card (default `fraud_alerts`). */
  readonly table?: string;
  /** The checkpoint directory (default: a temporary one, removed at the end). */
  readonly checkpointDir?: string;
  /** Where progress lines go (default: nowhere). */
  readonly log?: (line: string) => void;
}

/** What a live run did. */
export interface FraudLiveResult {
  readonly transactions: readonly Transaction[];
  /** Every alert published on `<stream>.alerts`, in order. */
  readonly alerts: readonly Alert[];
  /** The table: the latest alert per card. */
  readonly latestPerCard: readonly { card: string; rule: string; ref: string; reason: string }[];
}

/**
 * The fraud-detection job in its production shape: transactions arrive on a NATS JetStream
 * stream, and alerts go to PostgreSQL (the latest alert per card, upserted) and back to JetStream
 * (every alert, on `<stream>.alerts`), each exactly once. It creates what it needs: the stream
 * (emptied when it exists) and the table; publishes the generated transactions; then runs the job
 * bounded (`runToCompletion`) over what the stream holds, and reads the results back.
 */
export async function runFraudLive(options: FraudLiveOptions = {}): Promise<FraudLiveResult> {
  const log = options.log ?? (() => undefined);
  const servers = options.servers ?? '127.0.0.1:4222';
  const connectionString = options.connectionString ?? 'postgres://postgres@127.0.0.1:5432/test';
  const stream = options.stream ?? 'SLUICE_FRAUD';
  const table = options.table ?? 'fraud_alerts';
  const transactions = generateTransactions(options);
  const checkpointDir = options.checkpointDir ?? (await mkdtemp(join(tmpdir(), 'sluice-fraud-live-')));
  const nc = await connect({ servers });
  try {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.delete(stream).catch(() => false);
    await jsm.streams.add({ name: stream, subjects: [`${stream}.tx`, `${stream}.alerts`] });
    log(`created JetStream stream ${stream} (subjects ${stream}.tx and ${stream}.alerts) on ${servers}`);
    const js = jetstream(nc);
    await Promise.all(transactions.map((t) => js.publish(`${stream}.tx`, JSON.stringify(t))));
    log(`published ${transactions.length} transactions on ${stream}.tx`);

    const ctx = new StreamingContext({ batchInterval: '200ms', checkpoint: levelCheckpoint(checkpointDir) });
    const input = jetStreamSource<Transaction>(ctx, { servers, stream, subjects: `${stream}.tx`, format: 'json', maxRecordsPerBatch: 500, name: 'transactions' });
    const alerts = fraudAlerts(input.pipe(map((m) => m.value)));
    alerts.pipe(
      postgresSink({
        connectionString,
        table,
        createTable: true,
        mode: 'upsert',
        key: ['card'],
        columns: {
          card: { type: 'text', value: (a) => a.card },
          rule: { type: 'text', value: (a) => a.rule },
          ref: { type: 'text', value: (a) => a.ref },
          at: { type: 'timestamptz', value: (a) => a.time },
          reason: { type: 'text', value: (a) => a.reason },
        },
      }),
    );
    alerts.pipe(jetStreamSink(stream, { servers, subject: `${stream}.alerts`, name: 'alerts' }));
    ctx.addListener((event) => {
      if (event.type === 'batchCompleted') log(`batch ${event.progress.batchId}: ${event.progress.numInputRecords} transactions`);
    });
    const summary = await ctx.runToCompletion({ maxRecordsPerBatch: 500 });
    log(`ran ${summary.batches} batches over ${summary.records} transactions`);

    const published: Alert[] = [];
    const consumer = await js.consumers.get(stream, { filter_subjects: `${stream}.alerts` });
    const info = await consumer.info();
    if (info.num_pending > 0) {
      const messages = await consumer.fetch({ max_messages: info.num_pending, expires: 5_000 });
      for await (const m of messages) {
        published.push(m.json<Alert>());
        if (published.length === info.num_pending) break;
      }
    }
    const client = new pg.Client({ connectionString });
    await client.connect();
    try {
      const { rows } = await client.query<{ card: string; rule: string; ref: string; reason: string }>(`SELECT card, rule, ref, reason FROM "${table}" ORDER BY card`);
      return { transactions, alerts: published, latestPerCard: rows };
    } finally {
      await client.end();
    }
  } finally {
    await nc.close();
    if (options.checkpointDir === undefined) await rm(checkpointDir, { recursive: true, force: true });
  }
}
