import { join } from 'node:path';
import { Level } from 'level';
import { describe, expect, it } from 'vitest';
import { foreachBatch, ManualClock, SocketSource, StreamingContext } from 'sluice';
import { levelCheckpoint } from 'sluice/checkpoint';
import { checkpointerOf } from '../../checkpoint/internal.js';
import { batchKey, type CheckpointDb } from '../../checkpoint/checkpoint-layout.js';
import { LevelWriteAheadLog } from '../../checkpoint/level-write-ahead-log.js';
import { pendingCommit } from '../support/commit-backend.js';
import { until } from '../support/until.js';
import { useLineServer, useTempDir } from './checkpoint-harness.js';

const dir = useTempDir();
const checkpoint = (): string => join(dir(), 'ckpt');

/** One atomic write of the checkpoint: its operations, and those that go to a write-ahead log. */
interface Written {
  readonly operations: number;
  readonly walDeletes: number;
}

/** Records every commit (an array `batch` with a commit record) on the context's checkpoint database from now on. */
function spyCommits(ctx: StreamingContext): Written[] {
  const db = checkpointerOf(ctx).db as unknown as { batch: (...args: unknown[]) => unknown };
  const batch = db.batch.bind(db);
  const written: Written[] = [];
  db.batch = (...args: unknown[]) => {
    const [operations] = args;
    const ops = Array.isArray(operations) ? (operations as readonly { type: string; sublevel?: { prefix?: string } }[]) : [];
    // A commit writes its commit record (a new checkpoint's first plan is an array write too).
    if (ops.some((op) => op.type === 'put' && op.sublevel?.prefix === '!commits!')) {
      written.push({ operations: ops.length, walDeletes: ops.filter((op) => op.type === 'del' && op.sublevel?.prefix?.startsWith('!wal!') === true).length });
    }
    return batch(...args);
  };
  return written;
}

/** Whether a key of the checkpoint is a line of a write-ahead log (not the index its commits deleted up to). */
const isLine = (key: string): boolean => key.startsWith('!wal!') && !key.endsWith('~deleted-before');

/** The line keys of every write-ahead log in the checkpoint (opened after the context stopped). */
async function walKeys(): Promise<string[]> {
  const db = new Level<string, Uint8Array>(checkpoint(), { keyEncoding: 'utf8', valueEncoding: 'view' });
  await db.open();
  try {
    return (await db.keys({ gte: '!wal!', lt: '!wal"' }).all()).filter(isLine);
  } finally {
    await db.close();
  }
}

/** How many write-ahead-log keys the commits deleted in all. */
const walDeletes = (written: readonly Written[]): number => written.reduce((n, w) => n + w.walDeletes, 0);

const RECORDS_PER_BATCH = 500;

function rateJob(clock: ManualClock): StreamingContext {
  const ctx = new StreamingContext({ batchInterval: 1000, clock, checkpoint: levelCheckpoint(checkpoint()) });
  ctx.rateStream({ name: 'rate', rowsPerSecond: RECORDS_PER_BATCH, startTime: 0, maxRecordsPerBatch: RECORDS_PER_BATCH }).pipe(foreachBatch(() => undefined));
  return ctx;
}

/**
 * The keys a write-ahead log of source `source` deletes in the commit of a batch that read up to
 * `upTo` (with `outcome`, the batch then commits or is aborted).
 */
function purge(wal: LevelWriteAheadLog, source: string, upTo: number, outcome: 'committed' | 'aborted' = 'committed', persistsState = true): string[] {
  const base = pendingCommit(7, { persistsState });
  const keys: string[] = [];
  const deletes = (operations: readonly unknown[]): string[] => (operations as { type: string; key: string }[]).filter((op) => op.type === 'del').map((op) => op.key);
  wal.prepare({ ...base, plan: { ...base.plan, ranges: [{ source, start: 0, end: upTo }] }, write: (operations) => void keys.push(...deletes(operations)) });
  if (outcome === 'committed') wal.committed(7);
  else wal.aborted();
  return keys;
}

describe('LevelWriteAheadLog in a commit', () => {
  it('deletes only lines the log holds, once each, when the commit persists state: none for a log never opened, none past its end', async () => {
    const db: CheckpointDb = new Level<string, Uint8Array>(checkpoint(), { keyEncoding: 'utf8', valueEncoding: 'view' });
    await db.open();
    try {
      const unused = new LevelWriteAheadLog(db, 'queue');
      expect(purge(unused, 'queue', 1_000_000)).toEqual([]);
      const wal = new LevelWriteAheadLog(db, 'lines');
      await wal.append(['a', 'b', 'c']);
      expect(purge(wal, 'lines', 2, 'committed', false)).toEqual([]);
      expect(purge(wal, 'other', 2)).toEqual([]);
      expect(purge(wal, 'lines', 2)).toEqual([batchKey(0), batchKey(1)]);
      // An aborted commit deleted nothing: the next one deletes the same lines.
      expect(purge(wal, 'lines', 10, 'aborted')).toEqual([batchKey(2)]);
      expect(purge(wal, 'lines', 10)).toEqual([batchKey(2)]);
      expect(purge(wal, 'lines', 10)).toEqual([]);
      await wal.append(['d']);
      expect(purge(wal, 'lines', 10)).toEqual([batchKey(3)]);
      // Reopened on what is left: the oldest line comes from the database.
      const lines = db.sublevel(['wal', 'lines'], { keyEncoding: 'utf8', valueEncoding: 'utf8' });
      await lines.del(batchKey(0));
      await lines.del(batchKey(1));
      const reopened = new LevelWriteAheadLog(db, 'lines');
      expect(purge(reopened, 'lines', 10)).toEqual([]);
      expect(await reopened.end()).toBe(4);
      expect(purge(reopened, 'lines', 10)).toEqual([batchKey(2), batchKey(3)]);
    } finally {
      await db.close();
    }
  });
});

describe('the receiver write-ahead logs of sources that do not use one', () => {
  it('cost a queue source nothing: no commit deletes write-ahead-log keys, and its size does not grow with the records read', async () => {
    const clock = new ManualClock();
    const ctx = new StreamingContext({ batchInterval: 1000, clock, checkpoint: levelCheckpoint(checkpoint()) });
    const queue = Array.from({ length: 5 }, (_, b) => Array.from({ length: RECORDS_PER_BATCH }, (_, i) => b * RECORDS_PER_BATCH + i));
    ctx.queueStream(queue, { name: 'queue' }).pipe(foreachBatch(() => undefined));
    await ctx.start();
    const written = spyCommits(ctx);
    for (let i = 0; i < 5; i++) await clock.advance(1000);
    await ctx.stop();
    expect(written).toHaveLength(5);
    for (const commit of written) {
      expect(commit.walDeletes).toBe(0);
      // The commit record and the purge of the previous batch's log entries.
      expect(commit.operations).toBeLessThan(10);
    }
    expect(await walKeys()).toEqual([]);
  });

  it('cost a rate source nothing after a restart either: the first commit does not delete one key per record read before', async () => {
    const clock = new ManualClock();
    const ctx = rateJob(clock);
    await ctx.start();
    const written = spyCommits(ctx);
    for (let i = 0; i < 6; i++) await clock.advance(1000);
    await ctx.stop();

    const later = new ManualClock(6000);
    const again = rateJob(later);
    await again.start();
    const afterRestart = spyCommits(again);
    for (let i = 0; i < 2; i++) await later.advance(1000);
    await again.stop();

    expect(written).toHaveLength(6);
    expect(afterRestart).toHaveLength(2);
    for (const commit of [...afterRestart, ...written]) {
      expect(commit.walDeletes).toBe(0);
      expect(commit.operations).toBeLessThan(10);
    }
    expect(await walKeys()).toEqual([]);
  });
});

describe('the receiver write-ahead log of a socket source', () => {
  const server = useLineServer();

  interface SocketJob {
    readonly ctx: StreamingContext;
    readonly source: SocketSource;
  }

  function socketJob(clock: ManualClock, delivered: string[]): SocketJob {
    const ctx = new StreamingContext({ batchInterval: 1000, clock, checkpoint: levelCheckpoint(checkpoint()), defaultParallelism: 1 });
    const source = new SocketSource('127.0.0.1', server.port);
    ctx.source(source, { name: 'lines' }).pipe(foreachBatch((lines) => void delivered.push(...lines)));
    return { ctx, source };
  }

  /** Sends `text` (whole lines) to the `nth` client and waits until its source holds them in the write-ahead log. */
  async function send({ source }: SocketJob, nth: number, text: string): Promise<void> {
    const expected = source.received + text.split('\n').length - 1;
    server.clients[nth - 1]?.write(text);
    await until(() => source.received === expected, `${JSON.stringify(text)} in the write-ahead log`);
  }

  /** Starts the job, spies on its commits, and sends `text` once it is the `nth` client to connect. */
  async function startAndSend(job: SocketJob, nth: number, text: string): Promise<Written[]> {
    await job.ctx.start();
    const written = spyCommits(job.ctx);
    await server.connected(nth);
    await send(job, nth, text);
    return written;
  }

  /** The line keys of the socket's write-ahead log, read in the running context's database. */
  const liveWalKeys = async (ctx: StreamingContext): Promise<number> => (await checkpointerOf(ctx).db.keys({ gte: '!wal!', lt: '!wal"' }).all()).filter(isLine).length;

  it('holds received lines until their batch commits, and deletes exactly those lines then, across a restart', async () => {
    const delivered: string[] = [];
    const clock = new ManualClock();
    const first = socketJob(clock, delivered);
    const written = await startAndSend(first, 1, 'a\nb\nc\n');
    expect(await liveWalKeys(first.ctx)).toBe(3);
    await clock.advance(1000);
    expect(delivered).toEqual(['a', 'b', 'c']);
    expect(await liveWalKeys(first.ctx)).toBe(0);
    // Lines that arrive after the last commit stay in the log for the next run.
    await send(first, 1, 'd\ne\n');
    await first.ctx.stop();
    expect(walDeletes(written)).toBe(3);
    expect((await walKeys()).length).toBe(2);

    const later = new ManualClock(1000);
    const second = socketJob(later, delivered);
    const rewritten = await startAndSend(second, 2, 'f\n');
    await later.advance(1000);
    await later.advance(1000);
    await second.ctx.stop();
    expect(delivered).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
    // Only the three lines the log held (indexes 3 to 5) are deleted, once.
    expect(walDeletes(rewritten)).toBe(3);
    expect(await walKeys()).toEqual([]);
  });
});
