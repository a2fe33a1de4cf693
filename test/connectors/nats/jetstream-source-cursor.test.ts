import { expect, it, vi } from 'vitest';
import { foreachBatch, ManualClock, StreamingContext } from 'sluice';
import { JetStreamSource, jetStreamSource } from 'sluice/nats';
import { ackInfoOf, type AckInfo } from '../../../connectors/nats/delivery-info.js';
import { describeWith, NATS, NATS_URL } from '../../support/services.js';
import { manager, newStream, publish } from './nats-harness.js';

/*
 * The source's consumer kept across batches: the next batch's messages are read ahead on it while
 * a batch runs, a replayed or earlier range goes through a fresh consumer, and a consumer that
 * dies under the job is replaced at the sequence where the job stands, with nothing lost.
 */

/** The names of the consumers the server holds on `stream`. */
async function consumersOf(stream: string): Promise<string[]> {
  const names: string[] = [];
  for await (const info of (await manager()).consumers.list(stream)) names.push(info.name);
  return names;
}

/** A job on a ManualClock keeping every non-empty batch's values. */
function job(stream: string, maxRecordsPerBatch: number) {
  const clock = new ManualClock();
  const ctx = new StreamingContext({ batchInterval: 1000, clock });
  const batches: number[][] = [];
  jetStreamSource<number>(ctx, { servers: NATS_URL, stream, format: 'json', maxRecordsPerBatch }).pipe(
    foreachBatch((records) => {
      if (records.length > 0) batches.push(records.map((r) => r.value));
    }),
  );
  const step = async (n: number): Promise<void> => {
    if (ctx.state === 'initialized') await ctx.start();
    for (let i = 0; i < n && ctx.state === 'active'; i++) await clock.advance(1000);
  };
  return { ctx, batches, step };
}

await describeWith(NATS, 'jetStreamSource consumer kept across batches (live server)', () => {
  it('keeps one consumer while each batch starts where the last ended, the next batch read ahead', async () => {
    const stream = await newStream('reuse');
    await publish(`${stream}.x`, ['1', '2', '3', '4', '5', '6', '7']);
    const { ctx, batches, step } = job(stream, 2);
    await step(1);
    const [consumer] = await consumersOf(stream);
    expect(consumer).toBeDefined();
    // Batch 0 took 1 and 2; the read-ahead (at most a batch's limit) holds 3 and 4.
    await vi.waitFor(async () => {
      expect((await (await manager()).consumers.info(stream, consumer as string)).delivered.stream_seq).toBe(4);
    });
    await step(3);
    expect(await consumersOf(stream)).toEqual([consumer]);
    await ctx.stop();
    expect(ctx.failure).toBeUndefined();
    expect(batches).toEqual([[1, 2], [3, 4], [5, 6], [7]]);
    expect(await consumersOf(stream)).toEqual([]);
  });

  it('reads a replayed range through a consumer of its own, and keeps reading ahead where the job stands', async () => {
    const stream = await newStream('replay');
    await publish(`${stream}.x`, ['1', '2', '3', '4', '5', '6']);
    const source = new JetStreamSource<number>({ servers: NATS_URL, stream, format: 'json' });
    const clock = new ManualClock();
    await source.start({ clock, logger: new StreamingContext({ batchInterval: 1000, clock }).logger, name: 'replay' });
    try {
      const values = async (start: number, end: number): Promise<number[]> => (await source.read(start, end)).records.map((r) => r.value);
      expect(await source.latestOffset(0, 2)).toBe(2);
      expect(await values(0, 2)).toEqual([1, 2]);
      const kept = await consumersOf(stream);
      expect(await source.latestOffset(2, 2)).toBe(4);
      expect(await values(2, 4)).toEqual([3, 4]);
      // A replay of both batches (as after a crash), then the job goes on from 4.
      expect(await values(0, 2)).toEqual([1, 2]);
      expect(await values(2, 4)).toEqual([3, 4]);
      expect(await source.latestOffset(4, 2)).toBe(6);
      expect(await values(4, 6)).toEqual([5, 6]);
      expect(await consumersOf(stream)).toEqual(kept);
      // A start that is not where the last batch ended (a restart from an earlier checkpoint): a fresh consumer there.
      expect(await source.latestOffset(1, 3)).toBe(4);
      expect(await values(1, 4)).toEqual([2, 3, 4]);
      expect(await consumersOf(stream)).not.toEqual(kept);
      expect(await consumersOf(stream)).toHaveLength(1);
    } finally {
      await source.stop();
    }
    expect(await consumersOf(stream)).toEqual([]);
  });

  it('replaces a consumer deleted under the job at the sequence where the job stands, losing and repeating nothing', async () => {
    const stream = await newStream('dies');
    await publish(`${stream}.x`, ['1', '2', '3', '4', '5', '6']);
    const { ctx, batches, step } = job(stream, 2);
    await step(1);
    const [consumer] = await consumersOf(stream);
    // It dies with the next batch read ahead (3 and 4 delivered to the job, not yet taken).
    await vi.waitFor(async () => {
      expect((await (await manager()).consumers.info(stream, consumer as string)).delivered.stream_seq).toBe(4);
    });
    await (await manager()).consumers.delete(stream, consumer as string);
    await step(1);
    await publish(`${stream}.x`, ['7']);
    await step(2);
    await ctx.stop();
    expect(ctx.failure).toBeUndefined();
    expect(batches).toEqual([[1, 2], [3, 4], [5, 6], [7]]);
  });
});

it('reads a delivery reply subject in both forms, with exact milliseconds, refusing anything else', () => {
  const into: AckInfo = { seq: 0, dseq: 0, time: 0, pending: 0 };
  expect(ackInfoOf('$JS.ACK.ORDERS.c1.1.17.5.1796661276446150556.42', into)).toBe(true);
  expect(into).toEqual({ seq: 17, dseq: 5, time: 1796661276446, pending: 42 });
  expect(ackInfoOf('$JS.ACK.hub.ACCHASH.ORDERS.c1.2.123456.8.1796661276449999999.0.xyz', into)).toBe(true);
  expect(into).toEqual({ seq: 123456, dseq: 8, time: 1796661276449, pending: 0 });
  // Exact milliseconds: as a number, these nanoseconds round up to the next millisecond (the first
  // read and a replay once computed times two ways, and disagreed on such messages).
  expect(ackInfoOf('$JS.ACK.ORDERS.c1.1.3.3.1796661672622999942.0', into)).toBe(true);
  expect(into.time).toBe(1796661672622);
  for (const reply of ['', '_INBOX.abc', '$JS.ACK.ORDERS.c1.1.17.5.1796661276446150556', '$JS.ACK.ORDERS.c1.1.x.5.1796661276446150556.42', '$JS.ACK.ORDERS.c1.1.17.5.17.']) {
    expect(ackInfoOf(reply, into)).toBe(false);
  }
});
