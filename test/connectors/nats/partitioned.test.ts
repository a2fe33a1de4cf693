import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { jetstream } from '@nats-io/jetstream';
import { afterAll, expect, it } from 'vitest';
import { Batch, foreachBatch, ManualClock, SluiceError, StreamingContext, type JobPartition } from 'sluice';
import { levelCheckpoint } from 'sluice/checkpoint';
import type { BatchContext } from 'sluice/extend';
import { groupSource, jetStreamSink, jetStreamSource, partitionOf, PartitionedJetStreamSource, PartitionGroup, PartitionLostError, type JetStreamRecord } from 'sluice/nats';
import { useTempDir } from '../../support/temp-dir.js';
import { GroupBucket } from '../../../connectors/nats/group/group-bucket.js';
import { describeWith, NATS, NATS_URL } from '../../support/services.js';
import { manager, newStream, publish, testConnection } from './nats-harness.js';

/*
 * Partitioned streams on the local server: the sink's `partitionBy` (subjects by key hash) and
 * `fence` (a batch with a partition this instance lost is refused, whole; or, in a group, the
 * context's partition), the source's `partitioned` (some partitions, an offset each, replayable)
 * and `groupSource`.
 */

interface Order {
  readonly card: string;
  readonly n: number;
}

const dir = useTempDir();
const groups: string[] = [];
afterAll(async () => {
  const jsm = await manager();
  for (const group of groups) await jsm.streams.delete(`KV_${group}`).catch(() => undefined);
});

/** The sink's output run for one batch outside a context, as the sink suite does it. */
async function sinkRunner(sink: ReturnType<typeof jetStreamSink<Order>>): Promise<{ write: (batchId: number, records: Order[]) => Promise<void>; stop: () => Promise<void> }> {
  const ctx = new StreamingContext({ batchInterval: 1000 });
  const output = sink(ctx.queueStream<Order>());
  for (const participant of ctx.graph.commitParticipants) await participant.initialize?.(undefined, { id: randomUUID(), location: 'test' });
  return {
    write: async (batchId, records) => {
      const bc = { batchId, batchTime: (batchId + 1) * 1000, memo: () => Promise.resolve(Batch.of(records, 2)), reportOperator: () => undefined };
      await output.run(bc as unknown as BatchContext);
    },
    stop: () => ctx.stop(),
  };
}

/** Every message of `stream` with its subject and Sluice headers. */
async function stored(stream: string): Promise<{ subject: string; card: string; epoch: string | undefined }[]> {
  const info = await (await manager()).streams.info(stream);
  const out: { subject: string; card: string; epoch: string | undefined }[] = [];
  if (info.state.messages === 0) return out;
  const consumer = await jetstream(await testConnection()).consumers.get(stream);
  for await (const m of await consumer.fetch({ max_messages: info.state.messages, expires: 2000 })) {
    out.push({ subject: m.subject, card: m.json<Order>().card, epoch: m.headers?.get('Sluice-Epoch') });
    if (m.info.pending === 0) break;
  }
  return out;
}

const orders = (count: number): Order[] => Array.from({ length: count }, (_, n) => ({ card: `card-${n % 7}`, n }));

await describeWith(NATS, 'partitioned JetStream streams on the live server', () => {
  it('partitionOf is Sluice\'s key hash modulo the partitions: stable across processes and releases', () => {
    expect([partitionOf('card-1', 12), partitionOf('card-2', 12), partitionOf(42, 12), partitionOf(['a', 1], 12)]).toEqual([4, 0, 0, 6]);
    expect(() => partitionOf('a', 0)).toThrow(RangeError);
  });

  it('the sink writes each record on <prefix>.<partition of its key>', async () => {
    const stream = await newStream('part');
    const run = await sinkRunner(jetStreamSink<Order>(stream, { servers: NATS_URL, partitionBy: { prefix: `${stream}.p`, partitions: 4, key: (o) => o.card } }));
    await run.write(0, orders(20));
    await run.stop();
    const messages = await stored(stream);
    expect(messages).toHaveLength(20);
    for (const m of messages) expect(m.subject).toBe(`${stream}.p.${partitionOf(m.card, 4)}`);
    expect(() => jetStreamSink<Order>(stream, { servers: NATS_URL, subject: 'x', partitionBy: { prefix: 'p', partitions: 4, key: (o) => o.card } })).toThrow(/exactly one of/);
    expect(() => jetStreamSink<Order>(stream, { servers: NATS_URL, partitionBy: { prefix: 'p.*', partitions: 4, key: (o) => o.card } })).toThrow(/without wildcards/);
  });

  it('a fenced sink records each partition\'s lease epoch, and refuses a whole batch with a partition its member lost', async () => {
    const stream = await newStream('fenced');
    const group = `g_${randomBytes(4).toString('hex')}`;
    groups.push(group);
    const member = await PartitionGroup.join({ servers: NATS_URL, group, member: 'm1', partitions: 4, leaseMs: 5_000 });
    try {
      const run = await sinkRunner(jetStreamSink<Order>(stream, { servers: NATS_URL, partitionBy: { prefix: `${stream}.p`, partitions: 4, key: (o) => o.card }, fence: member }));
      await run.write(0, orders(10));
      expect((await stored(stream)).map((m) => m.epoch)).toEqual(Array.from({ length: 10 }, () => '1'));

      // Another member takes partition 1's lease over (as after an expiry).
      const bucket = await GroupBucket.open(await testConnection(), group, 1);
      const lease = await bucket.get('leases.1');
      await bucket.put('leases.1', { holder: 'm2', heartbeatAt: 0, epoch: 2 }, lease?.revision ?? -1);
      const failure = await run.write(1, orders(10)).then(() => undefined, (e: unknown) => e);
      expect(failure).toBeInstanceOf(SluiceError);
      expect(failure).toMatchObject({ code: 'PARTITION_LOST', batchId: 1 });
      expect((failure as SluiceError).cause).toBeInstanceOf(PartitionLostError);
      expect(await stored(stream)).toHaveLength(10);
      // A batch of the partitions it still owns goes through.
      await run.write(2, orders(10).filter((o) => partitionOf(o.card, 4) !== 1));
      expect((await stored(stream)).length).toBeGreaterThan(10);
      await run.stop();
    } finally {
      await member.close();
    }
  });

  it('fence: ctx.partition checks the context\'s partition before each batch: a lost one publishes nothing (PARTITION_LOST); others carry its epoch', async () => {
    const stream = await newStream('jobfence');
    let owned = true;
    const partition: JobPartition = {
      group: 'g',
      index: 2,
      count: 4,
      assertOwner: () => (owned ? Promise.resolve(3) : Promise.reject(new PartitionLostError(2, 'm1', 3, 'taken over'))),
    };
    const run = await sinkRunner(jetStreamSink<Order>(stream, { servers: NATS_URL, subjectOf: () => `${stream}.out`, fence: partition }));
    await run.write(0, orders(5));
    expect((await stored(stream)).map((m) => m.epoch)).toEqual(['3', '3', '3', '3', '3']);
    owned = false;
    const failure = await run.write(1, orders(5)).then(() => undefined, (e: unknown) => e);
    expect(failure).toBeInstanceOf(PartitionLostError);
    expect(failure).toMatchObject({ code: 'PARTITION_LOST', partition: 2 });
    expect(await stored(stream)).toHaveLength(5);
    await run.stop();
    expect(() => jetStreamSink<Order>(stream, { servers: NATS_URL, subject: 'x', fence: {} as JobPartition })).toThrow(/fence must be ctx.partition/);
  });

  it('groupSource reads the context\'s partition in a group, every partition without one, and refuses another partition count', async () => {
    const stream = await newStream('gsrc');
    for (let i = 0; i < 12; i++) await publish(`${stream}.${i % 3}`, [JSON.stringify(i)]);
    const read = async (partition: JobPartition | undefined): Promise<number[]> => {
      const ctx = new StreamingContext({ batchInterval: 100, ...(partition === undefined ? {} : { partition }) });
      const got: number[] = [];
      groupSource<number>(ctx, { servers: NATS_URL, stream, prefix: stream, partitions: 3, format: 'json' }).pipe(foreachBatch((records) => { got.push(...records.map((r) => r.value)); }));
      await ctx.runToCompletion();
      return got.sort((a, b) => a - b);
    };
    const part = (index: number, count = 3): JobPartition => ({ group: 'g', index, count, assertOwner: () => Promise.resolve(1) });
    expect(await read(part(1))).toEqual([1, 4, 7, 10]);
    expect(await read(undefined)).toEqual(Array.from({ length: 12 }, (_, i) => i));
    expect(() => groupSource(new StreamingContext({ batchInterval: 100, partition: part(1, 4) }), { servers: NATS_URL, stream, prefix: stream, partitions: 3, format: 'json' })).toThrow(/the group 4/);
    expect(() => new StreamingContext({ batchInterval: 100, partition: part(3, 3) })).toThrow(TypeError);
  });

  it('the source reads only its partitions, an offset each, and a range read again gives the same records', async () => {
    const stream = await newStream('psrc');
    for (let i = 0; i < 40; i++) await publish(`${stream}.p.${i % 4}`, [JSON.stringify(i)]);
    const clock = new ManualClock();
    const logger = new StreamingContext({ batchInterval: 1000, clock }).logger;
    const read = async (partitions: number[], max: number): Promise<JetStreamRecord<number>[]> => {
      const source = new PartitionedJetStreamSource<number>({ servers: NATS_URL, stream, format: 'json', partitioned: { prefix: `${stream}.p`, read: partitions } });
      await source.start({ clock, logger, name: 'parts' });
      try {
        const out: JetStreamRecord<number>[] = [];
        let start = source.initialOffset();
        for (;;) {
          const end = await source.latestOffset(start, max);
          if (JSON.stringify(end) === JSON.stringify(start)) return out;
          const batch = await source.read(start, end);
          expect(batch.records.length).toBeLessThanOrEqual(max);
          expect((await source.read(start, end)).records).toEqual(batch.records);
          out.push(...batch.records);
          start = end;
        }
      } finally {
        await source.stop();
      }
    };
    const odd = await read([3, 1], 5);
    expect(odd.map((r) => r.value).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => 2 * i + 1));
    const even = await read([0, 2], 1);
    expect(even.map((r) => r.value).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => 2 * i));
    expect(() => new PartitionedJetStreamSource({ servers: NATS_URL, stream, format: 'json', partitioned: { prefix: 'p', read: [1, 1] } })).toThrow(/distinct/);
  });

  it('in a checkpointed job, each partition resumes at its own committed offset after a restart', async () => {
    const stream = await newStream('pjob');
    for (let i = 0; i < 12; i++) await publish(`${stream}.p.${i % 4}`, [JSON.stringify(i)]);
    const run = async (): Promise<number[][]> => {
      const ctx = new StreamingContext({ batchInterval: 1000, clock: new ManualClock(), checkpoint: levelCheckpoint(join(dir(), 'ckpt')) });
      const batches: number[][] = [];
      jetStreamSource<number>(ctx, { servers: NATS_URL, stream, format: 'json', maxRecordsPerBatch: 4, partitioned: { prefix: `${stream}.p`, read: [0, 2] } }).pipe(
        foreachBatch((records) => {
          batches.push(records.map((r) => r.value));
        }),
      );
      await ctx.runToCompletion();
      return batches.filter((b) => b.length > 0);
    };
    expect(await run()).toEqual([[0, 2, 4, 6], [8, 10]]);
    for (let i = 12; i < 16; i++) await publish(`${stream}.p.${i % 4}`, [JSON.stringify(i)]);
    expect(await run()).toEqual([[12, 14]]);
  });
});
