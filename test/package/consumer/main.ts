/*
 * A user's program against the packed package: check-packed.mjs installs the tarball into a
 * strict ESM project (skipLibCheck: false), compiles this file there and runs it. It imports every
 * entry point; the @ts-expect-error lines prove that mistakes are type errors there, which they are
 * not when a public type degrades to any. The repository's own typecheck compiles it too.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { foreachBatch, ManualClock, mapToPair, StreamingContext, type DStream, type DurationLike } from 'sluice';
import { NarrowDStream, type Stage } from 'sluice/extend';
import { levelCheckpoint } from 'sluice/checkpoint';
import { queryableState, updateStateByKey, type QueryableState } from 'sluice/state';
import { agg, eventTimeWindow, tumbling, withWatermark } from 'sluice/windows';
import { keyedEvents, runBatches } from 'sluice/testing';
import { postgresSink } from 'sluice/postgres';
import { jetStreamSink, jetStreamSource, type JetStreamRecord } from 'sluice/nats';
import { redisSink, redisStreamSource } from 'sluice/redis';
import { mqttSource } from 'sluice/mqtt';
import { prometheusMetrics, serveMonitor } from 'sluice/monitor';
import { streamingKMeans, type KMeansModel } from 'sluice/ml';

/** Mistakes the compiler must refuse: compiled, never called. */
export function mistakes(): unknown[] {
  return [
    // @ts-expect-error a batch interval is a duration, not a boolean.
    new StreamingContext({ batchInterval: true }),
    // @ts-expect-error an object duration's units are numbers.
    { minutes: 'five' } satisfies DurationLike,
    // @ts-expect-error and it has no other keys.
    { fortnights: 2 } satisfies DurationLike,
    // @ts-expect-error keys is a number.
    keyedEvents(fc, { keys: 'two' }),
  ];
}

/** A user's own operator, built on sluice/extend: doubles each number. */
function doubled(stream: DStream<number>): DStream<number> {
  const stage: Stage<number, number> = (emit) => (n) => {
    emit(n * 2);
  };
  return new NarrowDStream('doubled', stream, () => stage);
}

/** What the @ts-expect-error lines below define: kept, never used. */
const compiledOnly: unknown[] = [];
const clock = new ManualClock();
const dir = await mkdtemp(join(tmpdir(), 'sluice-consumer-'));
try {
  const ctx = new StreamingContext({ batchInterval: { seconds: 1 }, clock, checkpoint: levelCheckpoint(join(dir, 'ckpt')) });
  // @ts-expect-error the logger is pino's, not any.
  const notALogger: number = ctx.logger;
  compiledOnly.push(notALogger);
  const words = ctx.queueStream<string>([['a', 'b', 'a']]).pipe(mapToPair((w) => [w, 1]));
  const counts = words.pipe(updateStateByKey((ones: number[], n: number | undefined) => (n ?? 0) + ones.length, { name: 'counts' }));
  counts.pipe(foreachBatch(() => undefined));
  try {
    words.pipe(updateStateByKey((ones: number[]) => ones.length, { name: 'counts' }));
    throw new Error('a second stateful operator named counts was accepted');
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
  }
  const state: QueryableState<string, number> = queryableState(counts);
  // @ts-expect-error the keys of counts are strings.
  compiledOnly.push(() => state.get(42));

  const clicks = ctx.queueStream<{ page: string; time: number; ms: number }>([]).pipe(withWatermark((c) => c.time, '1s'), mapToPair((c) => [c.page, c]));
  clicks.pipe(eventTimeWindow(tumbling('1m'), agg.sum((c) => c.ms)), foreachBatch(() => undefined));
  // @ts-expect-error sum() without a function adds the values themselves, which must be numbers.
  compiledOnly.push(() => clicks.pipe(eventTimeWindow(tumbling('1m'), agg.sum())));

  // A sink to PostgreSQL, defined (the consumer has no server to start it on).
  const alerts = ctx.queueStream<{ card: string; total: number }>([]);
  compiledOnly.push(postgresSink<{ card: string; total: number }>({ connectionString: 'postgres://127.0.0.1/app', table: 'alerts', mode: 'upsert', key: ['card'], columns: { card: { type: 'text', value: (a) => a.card } } }));
  compiledOnly.push(() => redisStreamSource<{ card: string }>(ctx, { url: 'redis://127.0.0.1:6379', key: 'payments' }).pipe(redisSink({ url: 'redis://127.0.0.1:6379', key: 'seen', mode: 'hash', field: (r) => r.value.card })));
  // @ts-expect-error a hash sink's field is a string.
  compiledOnly.push(() => alerts.pipe(redisSink({ url: 'redis://127.0.0.1:6379', key: 'k', mode: 'hash', field: (a) => a.total })));
  // @ts-expect-error a column's type is one of the PostgreSQL types the sink knows.
  compiledOnly.push(() => alerts.pipe(postgresSink({ connectionString: 'postgres://127.0.0.1/app', table: 'alerts', columns: { card: { type: 'varchar', value: (a) => a.card } } })));

  // MQTT, defined (the consumer has no broker to start it on).
  compiledOnly.push(() => mqttSource<{ card: string }>(new StreamingContext({ batchInterval: 1000 }), { url: 'mqtt://127.0.0.1:1883', topics: 'payments/#', clientId: 'consumer' }).pipe(foreachBatch((rs) => void rs.map((r) => r.value.card))));
  // @ts-expect-error MQTT QoS 2 is not offered.
  compiledOnly.push(() => mqttSource(ctx, { url: 'mqtt://127.0.0.1:1883', topics: 't', qos: 2 }));
  // JetStream, defined (the consumer has no server to start them on).
  compiledOnly.push(() => jetStreamSource<{ card: string }>(new StreamingContext({ batchInterval: 1000 }), { servers: '127.0.0.1:4222', stream: 'ORDERS', format: 'json' }));
  compiledOnly.push(() => alerts.pipe(jetStreamSink('ALERTS', { servers: '127.0.0.1:4222', subjectOf: (a) => `alerts.${a.card}` })));
  const seq: (r: JetStreamRecord<string>) => number = (r) => r.seq;
  compiledOnly.push(seq);
  // @ts-expect-error format is 'json', 'text', 'bytes' or a function.
  compiledOnly.push(() => jetStreamSource(ctx, { servers: '127.0.0.1:4222', stream: 'ORDERS', format: 'xml' }));

  // A streaming k-means over points, its model queryable by its key.
  const kmeans = streamingKMeans({ k: 1, dimensions: 2, initialCenters: [[0, 0]], name: 'clusters' });
  const points = ctx.queueStream<number[]>([[[2, 4]]]);
  const model: QueryableState<'model', KMeansModel> = queryableState(points.pipe(kmeans.trainOn()));
  points.pipe(kmeans.predictOn(), foreachBatch(() => undefined));
  // @ts-expect-error the model's one key is 'model'.
  compiledOnly.push(() => model.get('centers'));

  // The monitor, with its dashboard's files from the package and uPlot from the user's node_modules.
  const monitor = await serveMonitor(ctx, { metrics: prometheusMetrics(ctx, { job: 'consumer' }) });
  // @ts-expect-error a port is a number.
  compiledOnly.push(() => serveMonitor(ctx, { port: '9090' }));

  await ctx.start();
  await clock.advance(1000);
  const a = await state.get('a');
  const metrics = await (await fetch(`${monitor.url}metrics`)).text();
  if (!metrics.includes('sluice_batches_completed_total{job="consumer"} 1')) throw new Error(`monitor: /metrics says\n${metrics}`);
  for (const path of ['', 'assets/dashboard.js', 'assets/uPlot.iife.min.js']) {
    const res = await fetch(`${monitor.url}${path}`);
    if (res.status !== 200) throw new Error(`monitor: GET /${path} answered ${res.status}`);
  }
  const centers = (await model.get('model'))?.centers;
  await ctx.stop();
  if (JSON.stringify(centers) !== '[[2,4]]') throw new Error(`streamingKMeans: expected the center [2, 4], got ${JSON.stringify(centers)}`);
  if (a !== 2) throw new Error(`queryable state: expected 2 for 'a', got ${String(a)}`);
} finally {
  await rm(dir, { recursive: true, force: true });
}

const out = await runBatches([[1, 2], [3]], (s) => s.pipe(doubled));
if (JSON.stringify(out) !== '[[2,4],[6]]') throw new Error(`runBatches: got ${JSON.stringify(out)}`);

const events = fc.sample(keyedEvents(fc, { keys: 2, maxEvents: 3 }), { numRuns: 1, seed: 1 });
// @ts-expect-error the kit's arbitraries are fast-check's own, typed by the user's fast-check.
const notEvents: string = events;
compiledOnly.push(notEvents);

console.log('sluice consumer: ok');
