import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { Batch, ManualClock, SluiceError, StreamingContext, type BatchProgress, type DStream, type OperatorProgress } from 'sluice';
import { levelCheckpoint } from 'sluice/checkpoint';
import type { BatchContext, CheckpointStorage } from 'sluice/extend';
import { jetStreamSink } from 'sluice/nats';
import { faultyCheckpoint, sinkSuite, type SinkFixture } from 'sluice/testing';
import { describeWith, NATS, NATS_URL } from '../../support/services.js';
import { useTempDir } from '../../support/temp-dir.js';
import { messagesOf, newStream } from './nats-harness.js';

const dir = useTempDir();

interface Row {
  readonly batch: number;
  readonly index: number;
}

/**
 * The sink behind the kit's adapter: its output runs for one batch with a batch context that
 * knows the batch id and hands it the records, after its participant heard a checkpoint id, as a
 * checkpointed context's start would tell it. It holds the stream's messages.
 */
async function sinkFixture(): Promise<SinkFixture<Row>> {
  const stream = await newStream('suite');
  const ctx = new StreamingContext({ batchInterval: 1000 });
  const output = jetStreamSink<Row>(stream, { servers: NATS_URL, subject: `${stream}.rows` })(ctx.queueStream<Row>());
  for (const participant of ctx.graph.commitParticipants) await participant.initialize?.(undefined, { id: randomUUID(), location: 'suite' });
  return {
    write: (batchId, records) => {
      const bc = { batchId, batchTime: (batchId + 1) * 1000, memo: () => Promise.resolve(Batch.of(records, 2)), reportOperator: () => undefined };
      return output.run(bc as unknown as BatchContext);
    },
    read: async () => (await messagesOf(stream)).map((m) => m.data),
    cleanup: () => ctx.stop(),
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

const sinkOf = (progress: readonly BatchProgress[]): OperatorProgress[] => progress.flatMap((p) => p.operators.filter((o) => o.operator.startsWith('jetStreamSink')));
const rowsIn = async (stream: string): Promise<string[]> => (await messagesOf(stream)).map((m) => { const r = JSON.parse(m.data) as Row; return `${r.batch}.${r.index}`; });

await describeWith(NATS, 'jetStreamSink on the live server', () => {
  sinkSuite({ test: it, factory: sinkFixture });

  it('publishes each batch once, on the subject of each record, reporting what it wrote', async () => {
    const stream = await newStream('publish');
    const clock = new ManualClock();
    const sink = jetStreamSink<Row>(stream, { servers: NATS_URL, subjectOf: (r) => `${stream}.${r.index % 2 === 0 ? 'even' : 'odd'}` });
    const { ctx, progress } = rateJob(clock, levelCheckpoint(join(dir(), 'ckpt')), sink);
    expect(await runBatches(ctx, clock, 3)).toBeUndefined();
    const messages = await messagesOf(stream);
    expect(messages).toHaveLength(15);
    expect(messages.slice(0, 3)).toEqual([
      { subject: `${stream}.even`, data: '{"batch":0,"index":0}' },
      { subject: `${stream}.odd`, data: '{"batch":0,"index":1}' },
      { subject: `${stream}.even`, data: '{"batch":0,"index":2}' },
    ]);
    expect(sinkOf(progress)).toEqual([0, 1, 2].map(() => ({ operator: `jetStreamSink:${stream}`, recordsWritten: 5, retries: 0, alreadyWritten: false })));
  });

  it('publishes nothing twice when the process dies between the publishes and the checkpoint commit', async () => {
    const stream = await newStream('between');
    const path = join(dir(), 'ckpt');
    const sink = jetStreamSink<Row>(stream, { servers: NATS_URL, subject: `${stream}.rows` });
    // Batch 1's messages are in the stream, its checkpoint commit fails as a crash there would.
    const clock = new ManualClock();
    const crashed = rateJob(clock, faultyCheckpoint(levelCheckpoint(path), { beforeWrite: (batchId) => batchId === 1 }), sink);
    expect(await runBatches(crashed.ctx, clock, 3)).toBeInstanceOf(SluiceError);
    expect(await rowsIn(stream)).toHaveLength(10);

    const later = new ManualClock(3000);
    const restarted = rateJob(later, levelCheckpoint(path), sink);
    expect(await runBatches(restarted.ctx, later, 2)).toBeUndefined();
    const rows = await rowsIn(stream);
    expect(rows).toEqual(Array.from({ length: rows.length }, (_, i) => `${Math.floor(i / 5)}.${i % 5}`));
    expect(rows.length).toBeGreaterThanOrEqual(20);
    // The replayed batch 1 was dropped by the stream's de-duplication.
    expect(sinkOf(restarted.progress)[0]).toMatchObject({ recordsWritten: 0, alreadyWritten: true });
  });

  it('fails the batch with SINK_FAILED naming the stream when it does not capture the subject', async () => {
    const stream = await newStream('elsewhere');
    const clock = new ManualClock();
    const ctx = new StreamingContext({ batchInterval: 1000, clock });
    ctx.queueStream([[{ batch: 0, index: 0 }]]).pipe(jetStreamSink<Row>(stream, { servers: NATS_URL, subject: 'sluice_nobody_captures_this' }));
    const error = await runBatches(ctx, clock, 1);
    expect(error).toMatchObject({ code: 'SINK_FAILED', batchId: 0 });
    expect(error?.message).toContain(`could not publish batch 0 to stream ${stream}`);
    expect(error?.message).toContain(`no JetStream stream answered a publish on subject 'sluice_nobody_captures_this': check that stream ${stream} captures it`);
  });

  it('fails start with SINK_FAILED naming the server when NATS cannot be reached', async () => {
    const ctx = new StreamingContext({ batchInterval: 1000, clock: new ManualClock() });
    ctx.queueStream<Row>([]).pipe(jetStreamSink<Row>('S', { servers: '127.0.0.1:1', subject: 's.x', retries: 1 }));
    const started = ctx.start();
    await expect(started).rejects.toMatchObject({ code: 'SINK_FAILED' });
    await expect(started).rejects.toThrow(/could not find stream S after 2 attempts; check that the NATS server is up and reachable at 127\.0\.0\.1:1/);
  });
});

it('refuses options that cannot work, saying what to change', () => {
  const ctx = new StreamingContext({ batchInterval: 1000 });
  const rows = ctx.queueStream<Row>();
  expect(() => jetStreamSink('a.b', { servers: NATS_URL, subject: 'x' })).toThrow(/stream must be a JetStream stream name/);
  expect(() => jetStreamSink<Row>('S', { servers: NATS_URL })).toThrow(/exactly one of subject .* subjectOf .* and partitionBy/);
  expect(() => jetStreamSink<Row>('S', { servers: NATS_URL, subject: 'x', subjectOf: () => 'y' })).toThrow(/exactly one of subject/);
  expect(() => jetStreamSink('S', { servers: NATS_URL, subject: 'x.*' })).toThrow(/without wildcards/);
  expect(() => jetStreamSink('S', { servers: [], subject: 'x' })).toThrow(/servers must be/);
  rows.pipe(jetStreamSink('S', { servers: NATS_URL, subject: 'x' }));
  expect(() => rows.pipe(jetStreamSink('S', { servers: NATS_URL, subject: 'y' }))).toThrow(/another jetStreamSink of this program is named 'jetStreamSink:S'/);
});
