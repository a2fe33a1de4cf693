import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { Batch, foreachBatch, map, ManualClock, StreamingContext, type BatchProgress, type SluiceError } from 'sluice';
import { levelCheckpoint } from 'sluice/checkpoint';
import type { BatchContext } from 'sluice/extend';
import { redisSink, redisStreamSource, type RedisStreamRecord } from 'sluice/redis';
import { faultyCheckpoint, sinkSuite, sourceSuite, type SinkFixture } from 'sluice/testing';
import { RedisStreamSource } from '../../../connectors/redis/redis-stream-source.js';
import { describeWith, REDIS, REDIS_URL } from '../../support/services.js';
import { useTempDir } from '../../support/temp-dir.js';
import { append, keyName, streamValues, testRedis } from './redis-harness.js';

const dir = useTempDir();

/** The sink behind the kit's adapter, as a checkpointed context's start would set it up. */
async function sinkFixture(mode: 'stream' | 'hash'): Promise<SinkFixture<{ batch: number; index: number }>> {
  const key = keyName(`suite-${mode}`);
  const ctx = new StreamingContext({ batchInterval: 1000 });
  const sink = mode === 'stream' ? redisSink<{ batch: number; index: number }>({ url: REDIS_URL, key }) : redisSink<{ batch: number; index: number }>({ url: REDIS_URL, key, mode: 'hash', field: (r) => `${r.batch}.${r.index}` });
  const output = sink(ctx.queueStream());
  for (const participant of ctx.graph.commitParticipants) await participant.initialize?.(undefined, { id: randomUUID(), location: 'suite' });
  const redis = await testRedis();
  return {
    write: (batchId, records) => {
      const bc = { batchId, batchTime: (batchId + 1) * 1000, memo: () => Promise.resolve(Batch.of(records, 2)), reportOperator: () => undefined, logger: ctx.logger };
      return output.run(bc as unknown as BatchContext);
    },
    read: async () => (mode === 'stream' ? streamValues(key) : Object.entries(await redis.hGetAll(key)).sort()),
    cleanup: async () => {
      for (const hook of ctx.graph.services.stopHooks) await hook();
    },
  };
}

/** Runs `n` batches and stops; returns what stopped the context, if anything. */
async function runBatches(ctx: StreamingContext, clock: ManualClock, n: number): Promise<SluiceError | undefined> {
  await ctx.start();
  for (let i = 0; i < n && ctx.state === 'active'; i++) await clock.advance(1000);
  await ctx.stop();
  return ctx.failure;
}

function progressOf(ctx: StreamingContext): BatchProgress[] {
  const progress: BatchProgress[] = [];
  ctx.addListener((event) => {
    if (event.type === 'batchCompleted') progress.push(event.progress);
  });
  return progress;
}

await describeWith(REDIS, 'Redis connectors on the live server', () => {
  sinkSuite({ test: it, factory: () => sinkFixture('stream') });
  sinkSuite({ test: (name, fn) => { it(`${name} (hash)`, fn); }, factory: () => sinkFixture('hash') });

  sourceSuite({
    test: it,
    factory: () => {
      const key = keyName('source-suite');
      const make = (): RedisStreamSource<number> => new RedisStreamSource<number>({ url: REDIS_URL, key });
      let next = 0;
      return {
        source: make(),
        // Ids of its own (not the time), so the run that never stopped reads the same records.
        produce: async (n) => {
          const redis = await testRedis();
          for (let i = 0; i < n; i++, next++) await redis.sendCommand(['XADD', key, `${next + 1}-0`, 'value', String(next)]);
        },
        reopen: make,
      };
    },
  });

  it('reads a stream in batches of at most maxRecordsPerBatch, with the entry id and time, bad entries to dead letters', async () => {
    const key = keyName('read');
    await append(key, [1, 2, 3]);
    await (await testRedis()).sendCommand(['XADD', key, '*', 'value', '{not json']);
    await append(key, [5]);
    const clock = new ManualClock();
    const ctx = new StreamingContext({ batchInterval: 1000, clock });
    const input = redisStreamSource<number>(ctx, { url: REDIS_URL, key, maxRecordsPerBatch: 2, badRecords: 'deadLetter', name: 'payments' });
    const batches: (readonly RedisStreamRecord<number>[])[] = [];
    input.pipe(
      foreachBatch((records) => {
        batches.push(records);
      }),
    );
    const dead: unknown[] = [];
    input.deadLetters.pipe(foreachBatch((records) => void dead.push(...records)));
    const progress = progressOf(ctx);
    expect(await runBatches(ctx, clock, 4)).toBeUndefined();
    expect(batches.map((b) => b.map((r) => r.value))).toEqual([[1, 2], [3], [5], []]);
    const first = batches[0]?.[0];
    expect(first?.id).toMatch(/^\d+-\d+$/);
    expect(Math.abs((first?.time ?? 0) - Date.now())).toBeLessThan(60_000);
    expect(dead).toEqual([expect.objectContaining({ source: 'payments', raw: '{not json', location: expect.stringContaining(key) as unknown })]);
    expect(progress.map((p) => p.numBadRecords)).toEqual([0, 1, 0, 0]);
  });

  it('fails the batch with SOURCE_OFFSET_UNAVAILABLE naming the gap when entries it has not read were trimmed', async () => {
    const key = keyName('trimmed');
    await append(key, [1, 2]);
    const clock = new ManualClock();
    const ctx = new StreamingContext({ batchInterval: 1000, clock });
    const seen: number[] = [];
    redisStreamSource<number>(ctx, { url: REDIS_URL, key, maxRecordsPerBatch: 1 }).pipe(foreachBatch((records) => void seen.push(...records.map((r) => r.value))));
    await ctx.start();
    await clock.advance(1000);
    await (await testRedis()).sendCommand(['XTRIM', key, 'MAXLEN', '0']);
    await append(key, [3]);
    await clock.advance(1000);
    await ctx.stop();
    expect(seen).toEqual([1]);
    expect(ctx.failure).toMatchObject({ code: 'SOURCE_OFFSET_UNAVAILABLE' });
    expect(ctx.failure?.message).toMatch(new RegExp(`entries of stream ${key} after \\d+-\\d+ were deleted or trimmed \\(it holds the entries added from number 3 on, and the next to read is number 2\\)`));
  });

  it('writes nothing twice when a batch is replayed after the script ran and before the checkpoint committed', async () => {
    const input = keyName('in');
    const out = keyName('out');
    await append(input, [1, 2, 3, 4, 5, 6]);
    const path = join(dir(), 'ckpt');
    const job = (clock: ManualClock, fail: boolean): { ctx: StreamingContext; progress: BatchProgress[] } => {
      const checkpoint = fail ? faultyCheckpoint(levelCheckpoint(path), { beforeWrite: (batchId) => batchId === 1 }) : levelCheckpoint(path);
      const ctx = new StreamingContext({ batchInterval: 1000, clock, checkpoint });
      redisStreamSource<number>(ctx, { url: REDIS_URL, key: input, maxRecordsPerBatch: 2, name: 'in' }).pipe(
        map((r) => r.value * 10),
        redisSink({ url: REDIS_URL, key: out }),
      );
      return { ctx, progress: progressOf(ctx) };
    };
    const first = new ManualClock();
    const crashed = job(first, true);
    expect(await runBatches(crashed.ctx, first, 3)).toMatchObject({ code: 'COMMIT_FAILED' });
    expect(await streamValues(out)).toEqual([10, 20, 30, 40]);
    const clock = new ManualClock(2000);
    const restarted = job(clock, false);
    expect(await runBatches(restarted.ctx, clock, 2)).toBeUndefined();
    expect(await streamValues(out)).toEqual([10, 20, 30, 40, 50, 60]);
    expect(restarted.progress[0]?.operators.find((o) => o.operator === `redisSink:${out}`)).toMatchObject({ recordsWritten: 0, alreadyWritten: true });
  });

  it('ends a bounded run at the last entry the stream held when the run began', async () => {
    const key = keyName('bounded');
    await append(key, [1, 2, 3, 4, 5]);
    const ctx = new StreamingContext({ batchInterval: 1000, clock: new ManualClock() });
    const batches: number[][] = [];
    redisStreamSource<number>(ctx, { url: REDIS_URL, key, maxRecordsPerBatch: 2 }).pipe(
      foreachBatch(async (records) => {
        // Entries added while the run goes on are not the run's.
        if (batches.length === 0) await append(key, [6, 7]);
        batches.push(records.map((r) => r.value));
      }),
    );
    const summary = await ctx.runToCompletion();
    expect(batches.filter((b) => b.length > 0)).toEqual([[1, 2], [3, 4], [5]]);
    expect(summary).toMatchObject({ records: 5, completed: true });
  });

  it('keeps the latest value per field in hash mode', async () => {
    const key = keyName('hash');
    const clock = new ManualClock();
    const ctx = new StreamingContext({ batchInterval: 1000, clock, checkpoint: levelCheckpoint(join(dir(), 'ckpt')) });
    const rate = ctx.rateStream({ name: 'rate', rowsPerSecond: 3, startTime: 0, backfill: true, generate: (i) => ({ card: `c${i % 2}`, total: i }) });
    rate.pipe(redisSink({ url: REDIS_URL, key, mode: 'hash', field: (r) => r.card, value: (r) => String(r.total) }));
    expect(await runBatches(ctx, clock, 2)).toBeUndefined();
    expect(await (await testRedis()).hGetAll(key)).toEqual({ c0: '4', c1: '5' });
  });

  it('fails start with SINK_FAILED, or the source with SOURCE_FAILED, naming the server when Redis cannot be reached', async () => {
    const down = 'redis://127.0.0.1:1';
    const sinkCtx = new StreamingContext({ batchInterval: 1000, clock: new ManualClock() });
    sinkCtx.queueStream([[1]]).pipe(redisSink({ url: down, key: 'never' }));
    await expect(sinkCtx.start()).rejects.toThrow(/could not connect to Redis at 127\.0\.0\.1:1.*Check that Redis is up/);
    const sourceCtx = new StreamingContext({ batchInterval: 1000, clock: new ManualClock() });
    redisStreamSource(sourceCtx, { url: down, key: 'never' }).pipe(foreachBatch(() => undefined));
    await expect(sourceCtx.start()).rejects.toMatchObject({ code: 'SOURCE_FAILED' });
  });
});

it('refuses options that cannot work, saying what to change', () => {
  const ctx = new StreamingContext({ batchInterval: 1000 });
  expect(() => redisSink({ key: 'k' })).toThrow(/exactly one of url .* and client/);
  expect(() => redisSink({ url: REDIS_URL, key: 'k', mode: 'hash' })).toThrow(/mode 'hash' needs field/);
  expect(() => redisSink({ url: REDIS_URL, key: 'k', field: () => 'f' })).toThrow(/field is for mode 'hash'/);
  expect(() => redisSink({ url: REDIS_URL, key: 'k', maxLen: 0 })).toThrow(/maxLen must be a positive whole number/);
  expect(() => redisStreamSource(ctx, { url: REDIS_URL, key: '' })).toThrow(/key must be the stream's key/);
  // Two sinks to one key with one name would share their progress: the second would skip every batch.
  const rows = ctx.queueStream<number>();
  rows.pipe(redisSink({ url: REDIS_URL, key: 'k' }));
  expect(() => rows.pipe(redisSink({ url: REDIS_URL, key: 'k' }))).toThrow(/another redisSink of this program is named 'redisSink:k'/);
  rows.pipe(redisSink({ url: REDIS_URL, key: 'k', name: 'second' }));
  expect(() => redisStreamSource(ctx, { url: REDIS_URL, key: 'k', format: 'xml' as 'json' })).toThrow(/format must be 'json', 'text' or a function/);
});
