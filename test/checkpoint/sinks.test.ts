import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { foreachBatch, ManualClock, map, mapToPair, StreamingContext, type Pair } from 'sluice';
import { fileSink, inspectCheckpoint, levelCheckpoint, tableReader, tableSink } from 'sluice/checkpoint';
import { updateStateByKey } from 'sluice/state';
import { faultyCheckpoint, type CheckpointFaults } from 'sluice/testing';
import { runFor, useTempDir } from './checkpoint-harness.js';

const dir = useTempDir();
const BATCHES = 10;
/** Where the crash tests crash: each fault of the checkpoint, at a batch, with a checkpoint interval. */
const CRASHES = (['beforeWrite', 'afterWrite', 'betweenCommitted'] as const).flatMap((fault) => [[fault, 4, 1], [fault, 7, 3]] as const);

type Count = Pair<string, number>;

interface JobOptions {
  readonly interval?: number;
  /** Runs in every batch (replays included) after the sinks, before the commit. */
  readonly observe?: (ctx: StreamingContext, batchId: number) => Promise<void>;
  /** Where the job's checkpoint fails (a crash). */
  readonly faults?: CheckpointFaults;
}

/**
 * A running count per key over a deterministic rate source (4 records a batch, 40 in all), written
 * to a file sink, a keyed table 'counts' and an appended table 'log'.
 */
function countsJob(clock: ManualClock, options: JobOptions = {}): StreamingContext {
  const checkpoint = levelCheckpoint(join(dir(), 'ckpt'), { interval: options.interval ?? 1 });
  const ctx = new StreamingContext({ batchInterval: 1000, clock, checkpoint: faultyCheckpoint(checkpoint, options.faults ?? {}) });
  const counts = ctx
    .rateStream({ name: 'rate', rowsPerSecond: 1000, startTime: 0, maxRecordsPerBatch: 4, totalRows: 40, generate: (i) => `k${i % 3}` })
    .pipe(
      mapToPair((k: string) => [k, 1]),
      updateStateByKey((ones: number[], n: number | undefined) => (n ?? 0) + ones.length, { name: 'counts' }),
    );
  counts.pipe(fileSink(join(dir(), 'out')));
  counts.pipe(tableSink('counts', { key: ([k]: Count) => k }));
  counts.pipe(tableSink('log'));
  const observe = options.observe;
  if (observe !== undefined) counts.pipe(foreachBatch((_records, { batchId }) => observe(ctx, batchId)));
  return ctx;
}

async function entries<T>(ctx: StreamingContext, name: string): Promise<(readonly [unknown, T])[]> {
  const rows: (readonly [unknown, T])[] = [];
  for await (const row of tableReader<T>(ctx, name).entries()) rows.push(row);
  return rows;
}

/** The files of a directory, by name. */
async function files(path: string): Promise<Record<string, string>> {
  const result: Record<string, string> = {};
  for (const name of (await readdir(path)).sort()) result[name] = await readFile(join(path, name), 'utf8');
  return result;
}

interface Result {
  readonly files: Record<string, string>;
  readonly counts: (readonly [unknown, Count])[];
  readonly log: (readonly [unknown, Count])[];
}

/** Runs `n` batches, then reads the tables (while the context runs) and the output files. */
async function finish(ctx: StreamingContext, clock: ManualClock, n: number): Promise<Result> {
  await runFor(ctx, clock, n);
  const counts = await entries<Count>(ctx, 'counts');
  const log = await entries<Count>(ctx, 'log');
  await ctx.stop();
  return { files: await files(join(dir(), 'out')), counts, log };
}

/**
 * The job crashes at batch `at` (just before or after its atomic commit, or after the checkpoint
 * heard the commit and before the sinks did), then restarts where it stopped.
 */
async function crashAndResume(fault: keyof CheckpointFaults, at: number, options: JobOptions = {}): Promise<Result> {
  const clock = new ManualClock();
  const first = countsJob(clock, { ...options, faults: { [fault]: (batchId: number) => batchId === at } });
  await runFor(first, clock, BATCHES);
  await expect(first.awaitTermination()).rejects.toThrow(/injected crash/);
  const restart = new ManualClock((at + 1) * 1000);
  return finish(countsJob(restart, options), restart, BATCHES - at - 1);
}

async function straightRun(options: JobOptions = {}): Promise<Result> {
  const clock = new ManualClock();
  return finish(countsJob(clock, options), clock, BATCHES);
}

describe('fileSink', () => {
  it("shows a batch's file only once the batch committed: until then it is a hidden pending file", async () => {
    const out = join(dir(), 'out');
    const seen: string[][] = [];
    const clock = new ManualClock();
    // The observing output runs after the file sink, before the commit.
    const observe = async (_ctx: StreamingContext, batchId: number): Promise<void> => {
      if (batchId < 2) seen.push((await readdir(out)).sort());
    };
    await finish(countsJob(clock, { observe }), clock, 2);
    expect(seen).toEqual([['.batch-0000000000000000.ndjson.pending'], ['.batch-0000000000000001.ndjson.pending', 'batch-0000000000000000.ndjson']]);
  });

  it('at a restart, publishes the pending file of a batch whose commit is durable and deletes those of batches that did not commit', async () => {
    const out = join(dir(), 'out');
    const clock = new ManualClock();
    const crashed = countsJob(clock, { faults: { betweenCommitted: (batchId) => batchId === 1 } });
    await runFor(crashed, clock, 3);
    await expect(crashed.awaitTermination()).rejects.toMatchObject({ code: 'POST_COMMIT_FAILED', batchId: 1 });
    expect((await readdir(out)).sort()).toEqual(['.batch-0000000000000001.ndjson.pending', 'batch-0000000000000000.ndjson']);
    await writeFile(join(out, '.batch-0000000000000005.ndjson.pending'), 'a batch that never committed\n');
    const restart = countsJob(new ManualClock(2000));
    await restart.start();
    expect((await readdir(out)).sort()).toEqual(['batch-0000000000000000.ndjson', 'batch-0000000000000001.ndjson']);
    await restart.stop();
  });

  it('writes each batch to batch-<16 hex digit id>.ndjson, one JSON record per line, and leaves no temporary file', async () => {
    const { files: written } = await straightRun();
    expect(Object.keys(written)).toEqual(Array.from({ length: BATCHES }, (_, i) => `batch-${i.toString(16).padStart(16, '0')}.ndjson`));
    const lines = (name: string): Count[] => (written[name] ?? '').trimEnd().split('\n').map((line) => JSON.parse(line) as Count).sort();
    expect(lines('batch-0000000000000000.ndjson')).toEqual([['k0', 2], ['k1', 1], ['k2', 1]]);
    expect(lines('batch-0000000000000001.ndjson')).toEqual([['k0', 3], ['k1', 3], ['k2', 2]]);
  });

  it('writes a custom format to .txt files', async () => {
    const clock = new ManualClock();
    const ctx = new StreamingContext({ batchInterval: 1000, clock });
    ctx.queueStream([[1, 2], [3]]).pipe(fileSink(join(dir(), 'out'), { format: (n: number) => `n=${n}` }));
    await runFor(ctx, clock, 2);
    await ctx.stop();
    expect(await files(join(dir(), 'out'))).toEqual({ 'batch-0000000000000000.txt': 'n=1\nn=2\n', 'batch-0000000000000001.txt': 'n=3\n' });
  });

  it('writes no file for an empty batch unless writeEmpty is set', async () => {
    const clock = new ManualClock();
    const ctx = new StreamingContext({ batchInterval: 1000, clock });
    const input = ctx.queueStream([[1], [], [2]]);
    input.pipe(fileSink(join(dir(), 'skips')));
    input.pipe(fileSink(join(dir(), 'all'), { writeEmpty: true }));
    await runFor(ctx, clock, 3);
    await ctx.stop();
    expect(Object.keys(await files(join(dir(), 'skips')))).toEqual(['batch-0000000000000000.ndjson', 'batch-0000000000000002.ndjson']);
    expect(await files(join(dir(), 'all'))).toEqual({ 'batch-0000000000000000.ndjson': '1\n', 'batch-0000000000000001.ndjson': '', 'batch-0000000000000002.ndjson': '2\n' });
  });

  it.each(CRASHES)('after a crash %s batch %i (checkpoint interval %i), the replay leaves the same files as an uninterrupted run', async (fault, at, interval) => {
    const crashed = await crashAndResume(fault, at, { interval });
    const straight = await straightRun({ interval });
    expect(crashed.files).toEqual(straight.files);
  });

  it('fails the batch with SINK_FAILED when the directory cannot be written', async () => {
    const blocked = join(dir(), 'a-file');
    await writeFile(blocked, '');
    const clock = new ManualClock();
    const ctx = new StreamingContext({ batchInterval: 1000, clock });
    ctx.queueStream([['a']]).pipe(fileSink(blocked, { name: 'files' }));
    await runFor(ctx, clock, 1);
    await expect(ctx.awaitTermination()).rejects.toMatchObject({ code: 'SINK_FAILED', operator: 'files', batchId: 0 });
  });

  it('rejects a bad directory or format at once', () => {
    expect(() => fileSink('')).toThrow(TypeError);
    expect(() => fileSink('out', { format: 'csv' as never })).toThrow(TypeError);
  });
});

describe('tableSink', () => {
  it("makes a batch's rows visible when the batch commits: not to the batch itself, to the next one", async () => {
    const seen: { batchId: number; inTable: Count | undefined }[] = [];
    const clock = new ManualClock();
    const { counts } = await finish(
      countsJob(clock, { observe: async (ctx, batchId) => void seen.push({ batchId, inTable: await tableReader<Count>(ctx, 'counts').get('k0') }) }),
      clock,
      4,
    );
    // The running count of k0 after batches 0, 1, 2, 3 is 2, 3, 4, 6.
    expect(seen).toEqual([
      { batchId: 0, inTable: undefined },
      { batchId: 1, inTable: ['k0', 2] },
      { batchId: 2, inTable: ['k0', 3] },
      { batchId: 3, inTable: ['k0', 4] },
    ]);
    expect(counts).toEqual([['k0', ['k0', 6]], ['k1', ['k1', 5]], ['k2', ['k2', 5]]]);
  });

  it('appends one row per record under <batch id><index in the batch>', async () => {
    const { log } = await straightRun();
    expect(log).toHaveLength(3 * BATCHES);
    expect(log.slice(0, 4).map(([key]) => key)).toEqual(['000000000000000000000000', '000000000000000000000001', '000000000000000000000002', '000000000000000100000000']);
  });

  it.each(CRASHES)('holds every row exactly once after a crash %s batch %i (checkpoint interval %i)', async (fault, at, interval) => {
    const crashed = await crashAndResume(fault, at, { interval });
    const straight = await straightRun({ interval });
    expect(crashed.log).toEqual(straight.log);
    expect(crashed.counts).toEqual(straight.counts);
  });

  it('never shows a reader an older row while committed batches are replayed', async () => {
    const reads: number[] = [];
    const observe = async (ctx: StreamingContext): Promise<void> => {
      reads.push((await tableReader<Count>(ctx, 'counts').get('k1'))?.[1] ?? 0);
    };
    // State persisted at batch 5; batches 6 and 7 committed their rows, then the job crashed: 6 and 7 are replayed.
    await crashAndResume('afterWrite', 7, { interval: 3, observe });
    expect(reads).toEqual([...reads].sort((a, b) => a - b));
  });

  it('upserts keyed rows: the last record of a batch with a key wins', async () => {
    const clock = new ManualClock();
    const ctx = new StreamingContext({ batchInterval: 1000, clock, checkpoint: levelCheckpoint(join(dir(), 'ckpt')) });
    ctx
      .rateStream({ rowsPerSecond: 1000, startTime: 0, maxRecordsPerBatch: 5, totalRows: 10, numPartitions: 1, generate: (i) => ({ key: `k${i % 2}`, i }) })
      .pipe(tableSink('latest', { key: (r: { key: string; i: number }) => r.key }));
    await runFor(ctx, clock, 1);
    expect(await entries(ctx, 'latest')).toEqual([['k0', { key: 'k0', i: 4 }], ['k1', { key: 'k1', i: 3 }]]);
    await clock.advance(1000);
    expect(await entries(ctx, 'latest')).toEqual([['k0', { key: 'k0', i: 8 }], ['k1', { key: 'k1', i: 9 }]]);
    await ctx.stop();
  });

  it('fails the batch with SINK_FAILED naming the record and its bad part, and commits nothing of it', async () => {
    const clock = new ManualClock();
    const ctx = new StreamingContext({ batchInterval: 1000, clock, checkpoint: levelCheckpoint(join(dir(), 'ckpt')) });
    ctx.queueStream([[1, 2]]).pipe(
      map((n: number) => (n === 2 ? { n, callback: () => n } : { n })),
      tableSink('bad'),
    );
    await runFor(ctx, clock, 1);
    await expect(ctx.awaitTermination()).rejects.toMatchObject({
      code: 'SINK_FAILED',
      operator: "tableSink 'bad'",
      batchId: 0,
      message: expect.stringMatching(/record 1 of the batch: record\.callback: a function cannot be kept/) as unknown,
    });
    expect((await inspectCheckpoint(join(dir(), 'ckpt'))).lastCommitted).toBeUndefined();
  });

  it('fails the batch with USER_FUNCTION_FAILED when the key function throws', async () => {
    const clock = new ManualClock();
    const ctx = new StreamingContext({ batchInterval: 1000, clock, checkpoint: levelCheckpoint(join(dir(), 'ckpt')) });
    ctx.queueStream([['a']]).pipe(tableSink('t', { key: () => { throw new Error('no key'); } }));
    await runFor(ctx, clock, 1);
    await expect(ctx.awaitTermination()).rejects.toMatchObject({ code: 'USER_FUNCTION_FAILED', operator: "tableSink 't'", message: expect.stringMatching(/no key/) as unknown });
  });

  it('needs a checkpointed context, a valid and unique name: a TypeError when applied', () => {
    const plain = new StreamingContext({ batchInterval: 1000, clock: new ManualClock() });
    expect(() => plain.queueStream([['a']]).pipe(tableSink('t'))).toThrow(/create it with \{ checkpoint: levelCheckpoint\(directory\) \}/);
    expect(() => plain.queueStream([['a']]).pipe(tableSink('t'))).toThrow(TypeError);
    const ctx = new StreamingContext({ batchInterval: 1000, clock: new ManualClock(), checkpoint: levelCheckpoint(join(dir(), 'ckpt')) });
    const input = ctx.queueStream([['a']]);
    input.pipe(tableSink('t'));
    expect(() => input.pipe(tableSink('t'))).toThrow(/already defined/);
    expect(() => tableSink('has space')).toThrow(TypeError);
    expect(() => tableSink('a!b')).toThrow(TypeError);
  });

  it('tableReader needs a defined table, and a running context to read it', async () => {
    const ctx = new StreamingContext({ batchInterval: 1000, clock: new ManualClock(), checkpoint: levelCheckpoint(join(dir(), 'ckpt')) });
    ctx.queueStream([['a']]).pipe(tableSink('t'));
    expect(() => tableReader(ctx, 'other')).toThrow(TypeError);
    await expect(tableReader(ctx, 't').get('x')).rejects.toThrow(/only while the context runs/);
  });
});
