import { createConnection, createServer, type Socket } from 'node:net';
import { RetentionPolicy } from '@nats-io/jetstream';
import { expect, it } from 'vitest';
import { foreachBatch, ManualClock, SluiceError, StreamingContext, type BadRecord, type BatchProgress } from 'sluice';
import { jetStreamSource, JetStreamSource, type JetStreamRecord, type JetStreamSourceOptions } from 'sluice/nats';
import type { Source } from 'sluice/extend';
import { sourceSuite } from 'sluice/testing';
import { describeWith, NATS, NATS_URL } from '../../support/services.js';
import { manager, newStream, publish } from './nats-harness.js';

/** A job on a ManualClock reading `options` (the stream's own subjects by default), every batch's records and progress kept. */
function job<V>(options: Omit<JetStreamSourceOptions<V>, 'servers'> & { servers?: string }) {
  const clock = new ManualClock();
  const ctx = new StreamingContext({ batchInterval: 1000, clock });
  const input = jetStreamSource<V>(ctx, { servers: NATS_URL, ...options });
  const batches: JetStreamRecord<V>[][] = [];
  const dead: BadRecord[][] = [];
  const progress: BatchProgress[] = [];
  input.pipe(
    foreachBatch((records) => {
      if (records.length > 0) batches.push([...records]);
    }),
  );
  input.deadLetters.pipe(
    foreachBatch<BadRecord>((records) => {
      if (records.length > 0) dead.push([...records]);
    }),
  );
  ctx.addListener((event) => {
    if (event.type === 'batchCompleted' && event.progress.numInputRecords + event.progress.numBadRecords > 0) progress.push(event.progress);
  });
  /** Runs `n` batches (fewer when one fails); the context stays started. */
  const step = async (n: number): Promise<void> => {
    if (ctx.state === 'initialized') await ctx.start();
    for (let i = 0; i < n && ctx.state === 'active'; i++) await clock.advance(1000);
  };
  return { ctx, batches, dead, progress, step };
}

/**
 * The source with records reduced to `{ seq, value }`: the suite compares the records of two
 * fixtures (two streams, published at other times), whose subjects and broker times differ.
 */
function withoutStreamDetails(source: JetStreamSource<number>): Source<{ seq: number; value: number }> {
  return {
    kind: source.kind,
    replayable: source.replayable,
    start: (env) => source.start(env),
    initialOffset: () => source.initialOffset(),
    latestOffset: (start, max) => source.latestOffset(start, max),
    read: async (start, end) => {
      const read = await source.read(start, end);
      return { ...read, records: read.records.map(({ seq, value }) => ({ seq, value })) };
    },
    commit: (end) => source.commit(end),
    stop: () => source.stop(),
  };
}

const values = <V>(batches: readonly JetStreamRecord<V>[][]): V[][] => batches.map((b) => b.map((r) => r.value));

await describeWith(NATS, 'jetStreamSource on the live server', () => {
  sourceSuite({
    test: it,
    factory: async () => {
      const stream = await newStream('suite');
      let produced = 0;
      const make = (): Source<{ seq: number; value: number }> => withoutStreamDetails(new JetStreamSource<number>({ servers: NATS_URL, stream, format: 'json' }));
      return {
        source: make(),
        produce: (n) => publish(`${stream}.n`, Array.from({ length: n }, () => JSON.stringify(produced++))),
        reopen: make,
      };
    },
  });

  it('ends a bounded run at the last message the stream held when the run began', async () => {
    const stream = await newStream('bounded');
    await publish(`${stream}.x`, ['1', '2', '3', '4', '5']);
    const ctx = new StreamingContext({ batchInterval: 1000, clock: new ManualClock() });
    const batches: number[][] = [];
    jetStreamSource<number>(ctx, { servers: NATS_URL, stream, format: 'json', maxRecordsPerBatch: 2 }).pipe(
      foreachBatch(async (records) => {
        // Messages published while the run goes on are not the run's.
        if (batches.length === 0) await publish(`${stream}.x`, ['6', '7']);
        batches.push(records.map((r) => r.value));
      }),
    );
    const summary = await ctx.runToCompletion();
    expect(batches.filter((b) => b.length > 0)).toEqual([[1, 2], [3, 4], [5]]);
    expect(summary).toMatchObject({ records: 5, completed: true });
  });

  it('reads each batch the messages published since, at most maxRecordsPerBatch, with subject, sequence and broker time', async () => {
    const stream = await newStream('batches');
    const before = Date.now();
    await publish(`${stream}.x`, ['{"n":1}', '{"n":2}', '{"n":3}', '{"n":4}', '{"n":5}']);
    const { ctx, batches, progress, step } = job<{ n: number }>({ stream, format: 'json', maxRecordsPerBatch: 2 });
    await step(4);
    await publish(`${stream}.y`, ['{"n":6}']);
    await step(1);
    await ctx.stop();
    expect(ctx.failure).toBeUndefined();
    expect(values(batches)).toEqual([[{ n: 1 }, { n: 2 }], [{ n: 3 }, { n: 4 }], [{ n: 5 }], [{ n: 6 }]]);
    expect(batches.flat().map((r) => [r.subject, r.seq])).toEqual([1, 2, 3, 4, 5, 6].map((seq) => [`${stream}.${seq === 6 ? 'y' : 'x'}`, seq]));
    for (const r of batches.flat()) expect(r.time).toBeGreaterThanOrEqual(before - 1000);
    expect(progress.map((p) => [p.sources[0]?.startOffset, p.sources[0]?.endOffset, p.sources[0]?.retries])).toEqual([[0, 2, 0], [2, 4, 0], [4, 5, 0], [5, 6, 0]]);
  });

  it('reads only the subjects asked for: one subject filtered by the server, several by the source', async () => {
    const stream = await newStream('subjects');
    for (let i = 0; i < 6; i++) await publish(`${stream}.${'abc'[i % 3] as string}`, [String(i)]);
    const one = job<string>({ stream, subjects: `${stream}.b`, format: 'text', name: 'one', maxRecordsPerBatch: 1 });
    await one.step(3);
    await one.ctx.stop();
    expect(values(one.batches)).toEqual([['1'], ['4']]);
    expect(one.progress.map((p) => p.sources[0]?.endOffset)).toEqual([2, 5]);
    const two = job<string>({ stream, subjects: [`${stream}.a`, `${stream}.c`], format: 'text', name: 'two', maxRecordsPerBatch: 3 });
    await two.step(3);
    await two.ctx.stop();
    expect(values(two.batches)).toEqual([['0', '2', '3'], ['5']]);
    expect(two.ctx.failure).toBeUndefined();
  });

  it('fails with SOURCE_OFFSET_UNAVAILABLE naming the stream and the gap when messages it has not read were purged', async () => {
    const stream = await newStream('purge');
    await publish(`${stream}.x`, ['1', '2', '3', '4', '5']);
    const { ctx, batches, step } = job<number>({ stream, format: 'json', maxRecordsPerBatch: 2 });
    await step(1);
    await (await manager()).streams.purge(stream);
    await publish(`${stream}.x`, ['6']);
    await step(1);
    await ctx.stop();
    expect(values(batches)).toEqual([[1, 2]]);
    expect(ctx.failure).toBeInstanceOf(SluiceError);
    expect(ctx.failure?.code).toBe('SOURCE_OFFSET_UNAVAILABLE');
    expect(ctx.failure?.message).toContain(`stream ${stream} no longer holds sequences 3 to 5`);
  });

  it("sends a message it cannot decode to deadLetters under badRecords: 'deadLetter', naming stream and sequence; fails the batch with BAD_RECORD by default", async () => {
    const stream = await newStream('bad');
    await publish(`${stream}.x`, ['{"ok":1}', 'not json', '{"ok":2}']);
    const lenient = job<{ ok: number }>({ stream, format: 'json', badRecords: 'deadLetter' });
    await lenient.step(1);
    await lenient.ctx.stop();
    expect(values(lenient.batches)).toEqual([[{ ok: 1 }, { ok: 2 }]]);
    expect(lenient.dead).toEqual([[expect.objectContaining({ raw: 'not json', location: `${stream}#2 (${stream}.x)` })]]);
    expect(lenient.progress[0]?.sources[0]).toMatchObject({ inputRecords: 2, badRecords: 1 });
    const strict = job<{ ok: number }>({ stream, format: (data) => JSON.parse(new TextDecoder().decode(data)) as { ok: number } });
    await strict.step(1);
    await strict.ctx.stop();
    expect(strict.ctx.failure?.code).toBe('BAD_RECORD');
    expect(strict.batches).toEqual([]);
  });

  it('fails to start with SOURCE_FAILED naming the server and the stream when the server is unreachable', async () => {
    const { ctx } = job<number>({ servers: '127.0.0.1:1', stream: 'nowhere', format: 'json', retries: 1 });
    const error = await ctx.start().then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(SluiceError);
    expect((error as SluiceError).code).toBe('SOURCE_FAILED');
    expect((error as SluiceError).message).toMatch(/stream nowhere after 2 attempts; check that the NATS server is up and reachable at 127\.0\.0\.1:1/);
  });

  it('fails to start naming the stream when it does not exist', async () => {
    const { ctx } = job<number>({ stream: 'sluice_missing_stream', format: 'json' });
    const error = await ctx.start().then(() => undefined, (e: unknown) => e);
    expect((error as SluiceError).code).toBe('SOURCE_FAILED');
    expect((error as SluiceError).message).toContain('stream sluice_missing_stream');
  });

  it('rides out a lost connection: the call is tried again on a fresh connection, counted in the batch progress', async () => {
    const stream = await newStream('lost');
    await publish(`${stream}.x`, ['1', '2']);
    const proxy = await tcpProxy(NATS.port);
    const { ctx, batches, progress, step } = job<number>({ servers: `127.0.0.1:${proxy.port}`, stream, format: 'json' });
    await step(1);
    proxy.cut();
    await publish(`${stream}.x`, ['3']);
    await step(1);
    await ctx.stop();
    await proxy.close();
    expect(ctx.failure).toBeUndefined();
    expect(values(batches)).toEqual([[1, 2], [3]]);
    expect(progress.map((p) => p.sources[0]?.retries)).toEqual([0, 1]);
  });

  it('with durable, acknowledges a batch once it commits: an Interest stream then drops its messages', async () => {
    const stream = await newStream('durable', { retention: RetentionPolicy.Interest });
    const { ctx, batches, step } = job<number>({ stream, format: 'json', durable: 'sluice', maxRecordsPerBatch: 2 });
    await ctx.start();
    await publish(`${stream}.x`, ['1', '2', '3']);
    await step(1);
    const jsm = await manager();
    expect((await jsm.consumers.info(stream, 'sluice')).ack_floor.stream_seq).toBe(2);
    expect((await jsm.streams.info(stream)).state).toMatchObject({ messages: 1, first_seq: 3 });
    await step(1);
    await ctx.stop();
    expect(values(batches)).toEqual([[1, 2], [3]]);
    expect((await jsm.streams.info(stream)).state.messages).toBe(0);
  });

  it('refuses a durable on a WorkQueue stream, saying why', async () => {
    const stream = await newStream('wq', { retention: RetentionPolicy.Workqueue });
    const { ctx } = job<number>({ stream, format: 'json', durable: 'sluice' });
    await expect(ctx.start()).rejects.toThrow(/WorkQueue retention.*Use a Limits or Interest stream/);
  });

  it('checks its options at definition', () => {
    const ctx = new StreamingContext({ batchInterval: 1000 });
    expect(() => jetStreamSource(ctx, { servers: '', stream: 's', format: 'json' })).toThrow(TypeError);
    expect(() => jetStreamSource(ctx, { servers: NATS_URL, stream: 'a.b', format: 'json' })).toThrow(/stream must be a JetStream stream name/);
    expect(() => jetStreamSource(ctx, { servers: NATS_URL, stream: 's', format: 'xml' as 'json' })).toThrow(/format must be 'json', 'text', 'bytes' or a function/);
    expect(() => jetStreamSource(ctx, { servers: NATS_URL, stream: 's', format: 'json', durable: 'a.b' })).toThrow(/durable must be a consumer name/);
    expect(() => jetStreamSource(ctx, { servers: NATS_URL, stream: 's', format: 'json', retries: -1 })).toThrow(/retries must be a whole number/);
  });
});

/** A TCP proxy to 127.0.0.1:`port` whose `cut` drops every connection through it (new ones still pass). */
async function tcpProxy(port: number): Promise<{ port: number; cut: () => void; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = createConnection({ host: '127.0.0.1', port });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => sockets.delete(s));
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the proxy has no port');
  return {
    port: address.port,
    cut: () => {
      for (const s of sockets) s.destroy();
    },
    close: () => new Promise<void>((resolve) => { server.close(() => { resolve(); }); }),
  };
}
