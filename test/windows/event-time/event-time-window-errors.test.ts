import { Level } from 'level';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { foreachBatch, keyBy, ManualClock, StreamingContext, type DStream, type SluiceError } from 'sluice';
import { LevelStateBackend } from 'sluice/state';
import type { StateBackend } from 'sluice/extend';
import { agg, eventTimeWindow, tumbling, withWatermark, type Aggregator } from 'sluice/windows';
import { runBatches } from 'sluice/testing';
import { rejectionOf } from '../../core/run-manually.js';
import { useTempDirs } from '../../support/temp-dir.js';

interface Ev {
  readonly key: string;
  readonly t: number;
}
const ev = (key: string, t: number): Ev => ({ key, t });

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A fresh temporary directory, removed after the test. */
const tempDir = useTempDirs('sluice-window-errors-');

const windowed = (stateBackend: StateBackend | undefined, aggregator: Aggregator<Ev, number, number> = agg.count()) => (s: DStream<Ev>) =>
  s.pipe(withWatermark((e: Ev) => e.t, 0), keyBy((e: Ev) => e.key), eventTimeWindow(tumbling(10), aggregator, { name: 'per-key', ...(stateBackend === undefined ? {} : { stateBackend }) }));

/** Runs the window over `batches` on a context of its own; the error that stopped it, if any. */
async function run(batches: Ev[][], stateBackend: StateBackend | undefined): Promise<SluiceError | undefined> {
  const clock = new ManualClock();
  const ctx = new StreamingContext({ batchInterval: 1000, clock, defaultParallelism: 1 });
  windowed(stateBackend)(ctx.queueStream(batches)).pipe(foreachBatch(() => undefined));
  let failure: SluiceError | undefined;
  ctx.awaitTermination().catch((error: unknown) => (failure = error as SluiceError));
  await ctx.start();
  await clock.advance(1000 * batches.length);
  await ctx.stop();
  return failure;
}

describe('eventTimeWindow: what a failure is reported as', () => {
  it('an aggregator that throws: USER_FUNCTION_FAILED naming the operator, with its error as the cause', async () => {
    const boom = new Error('cannot add');
    const failing: Aggregator<Ev, number, number> = {
      ...agg.sum((e: Ev) => e.t),
      add: (acc, e) => {
        if (e.key === 'bad') throw boom;
        return acc + e.t;
      },
    };
    const error = await rejectionOf(runBatches([[ev('a', 1)], [ev('bad', 2)]], windowed(undefined, failing)));
    expect(error).toMatchObject({ code: 'USER_FUNCTION_FAILED', operator: 'per-key', batchId: 1, cause: boom });
    expect((error as Error).message).toMatch(/Fix the function/);
  });

  it('a LevelDB read that fails: STATE_IO_FAILED naming the operator, not USER_FUNCTION_FAILED', async () => {
    const dir = await tempDir();
    expect(await run([[ev('a', 1)]], await LevelStateBackend.open(dir))).toBeUndefined();
    // A restart: the store holds rows it has not read, so the batch reads LevelDB.
    const db = new Level(dir);
    await db.open();
    cleanups.push(() => db.close());
    const disk = new Error('IO error: disk gone');
    vi.spyOn(db, 'getMany').mockRejectedValueOnce(disk);
    const error = await run([[ev('a', 2)]], LevelStateBackend.fromDatabase(db));
    expect(error).toMatchObject({ code: 'STATE_IO_FAILED', operator: 'per-key', batchId: 0 });
    expect(error?.message).toMatch(/^Operator per-key failed in batch 0 \(batch time 1000\): State store 'per-key' could not read 2 key\(s\): IO error: disk gone\./);
    expect(error?.message).not.toMatch(/Fix the function/);
    expect((error?.cause as SluiceError).cause).toBe(disk);
  });

  it('window state damaged on disk: STATE_CORRUPT naming the operator when a restart loads it', async () => {
    const dir = await tempDir();
    expect(await run([[ev('a', 1), ev('b', 2)]], await LevelStateBackend.open(dir))).toBeUndefined();
    const db = new Level(dir);
    const rows = db.sublevel<Buffer, Uint8Array>(['state', 'per-key'], { keyEncoding: 'buffer', valueEncoding: 'view' });
    for await (const key of rows.keys()) if (key[0] === 0x41) await rows.put(key, Uint8Array.of(7));
    await db.close();
    const error = await run([[ev('a', 3)]], await LevelStateBackend.open(dir));
    expect(error).toMatchObject({ code: 'STATE_CORRUPT', operator: 'per-key', batchId: 0 });
    expect(error?.message).toMatch(/State store 'per-key': the value of key 0x41[0-9a-f]+ cannot be decoded: Cannot decode a state value: unknown envelope version 7/);
  });

  it('a damaged row key: STATE_CORRUPT, and the error names the operator', async () => {
    const dir = await tempDir();
    expect(await run([[ev('a', 1)]], await LevelStateBackend.open(dir))).toBeUndefined();
    const db = new Level(dir);
    const rows = db.sublevel<Buffer, Uint8Array>(['state', 'per-key'], { keyEncoding: 'buffer', valueEncoding: 'view' });
    const [value] = await rows.values({ gte: Buffer.from('A'), lt: Buffer.from('B') }).all();
    // A window row whose key part is no encoded key (tag 0x99), then its two 8-byte times.
    await rows.put(Buffer.concat([Buffer.from('A\u0099', 'latin1'), Buffer.alloc(16, 0x80)]), value as Uint8Array);
    await db.close();
    const error = await run([[ev('a', 3)]], await LevelStateBackend.open(dir));
    expect(error).toMatchObject({ code: 'STATE_CORRUPT', operator: 'per-key', batchId: 0, message: expect.stringMatching(/Malformed store key at byte 0/) as unknown });
  });
});
