import { readdir, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Level } from 'level';
import { describe, expect, it } from 'vitest';
import { ManualClock } from 'sluice';
import { inspectCheckpoint } from 'sluice/checkpoint';
import { encodeValue } from 'sluice/extend';
import { batchKey, sublevels, type CheckpointDb } from '../../checkpoint/checkpoint-layout.js';
import { longKeyCounts, runLongKeyCounts, useTempDir, type KeyCounts } from './checkpoint-harness.js';

const dir = useTempDir();
const checkpoint = (): string => join(dir(), 'ckpt');
const RUN = 20;

type Outputs = KeyCounts;
const job = longKeyCounts;
const run = runLongKeyCounts;

/** Two runs of 20 batches: the first run's writes end up in a LevelDB table file, the second's in its log. */
async function prepare(): Promise<void> {
  await run(checkpoint(), 0, RUN);
  await run(checkpoint(), RUN, RUN);
}

async function withDb(change: (db: CheckpointDb) => Promise<void>): Promise<void> {
  const db: CheckpointDb = new Level<string, Uint8Array>(checkpoint(), { keyEncoding: 'utf8', valueEncoding: 'view' });
  await db.open();
  try {
    await change(db);
  } finally {
    await db.close();
  }
}

async function file(pattern: RegExp): Promise<string> {
  const name = (await readdir(checkpoint())).find((f) => pattern.test(f));
  if (name === undefined) throw new Error(`no file ${pattern} in the checkpoint`);
  return join(checkpoint(), name);
}

async function overwrite(path: string, at: number, length: number): Promise<void> {
  const bytes = await readFile(path);
  bytes.fill(0x5a, at, at + length);
  await writeFile(path, bytes);
}

/** A restart on the damaged checkpoint must fail with CHECKPOINT_CORRUPT before running any batch. */
async function expectRefused(what: RegExp): Promise<void> {
  const outputs: Outputs = new Map();
  const ctx = job(checkpoint(), new ManualClock(2 * RUN * 1000), outputs);
  await expect(ctx.start()).rejects.toMatchObject({ code: 'CHECKPOINT_CORRUPT', message: expect.stringMatching(what) as unknown });
  expect(outputs.size).toBe(0);
  expect(ctx.state).toBe('stopped');
}

const GARBAGE = Uint8Array.from([0xde, 0xad, 0xbe, 0xef]);

describe('a damaged checkpoint', () => {
  it('with a state row whose key cannot be decoded: CHECKPOINT_CORRUPT naming the operator, the batch not committed', async () => {
    await run(checkpoint(), 0, 2);
    await withDb(async (db) => {
      const rows = db.sublevel<Buffer, Uint8Array>(['state', 'counts'], { keyEncoding: 'buffer', valueEncoding: 'view' });
      const [value] = await rows.values({ limit: 1 }).all();
      // An entry row ('S') whose key part is no encoded key (tag 0x99).
      await rows.put(Buffer.from('S\u0099', 'latin1'), value as Uint8Array);
    });
    const clock = new ManualClock(2000);
    const outputs: Outputs = new Map();
    const ctx = job(checkpoint(), clock, outputs);
    await ctx.start();
    await clock.advance(1000);
    await expect(ctx.awaitTermination()).rejects.toMatchObject({
      code: 'CHECKPOINT_CORRUPT',
      operator: 'counts',
      message: expect.stringMatching(/^Operator counts failed in batch 2 .*: The checkpoint at .* is damaged: Malformed store key at byte 0/) as unknown,
    });
    expect(outputs.size).toBe(0);
    expect((await inspectCheckpoint(checkpoint())).lastCommitted?.batchId).toBe(1);
  });

  it('with a garbage meta entry: CHECKPOINT_CORRUPT on start and on inspection', async () => {
    await prepare();
    await withDb((db) => sublevels(db).meta.put('format', GARBAGE));
    await expectRefused(/the format entry cannot be decoded/);
    await expect(inspectCheckpoint(checkpoint())).rejects.toMatchObject({ code: 'CHECKPOINT_CORRUPT' });
  });

  it('with a garbage commit entry: CHECKPOINT_CORRUPT', async () => {
    await prepare();
    await withDb((db) => sublevels(db).commits.put(batchKey(2 * RUN - 1), GARBAGE));
    await expectRefused(new RegExp(`commit ${2 * RUN - 1} cannot be decoded`));
    await expect(inspectCheckpoint(checkpoint())).rejects.toMatchObject({ code: 'CHECKPOINT_CORRUPT' });
  });

  it('with a commit entry that decodes to something else: CHECKPOINT_CORRUPT', async () => {
    await prepare();
    await withDb((db) => sublevels(db).commits.put(batchKey(2 * RUN - 1), encodeValue({ batchId: 2 * RUN - 1 })));
    await expect(inspectCheckpoint(checkpoint())).rejects.toMatchObject({ code: 'CHECKPOINT_CORRUPT', message: expect.stringMatching(/is not a commit entry/) as unknown });
    await expectRefused(/damaged/);
  });

  it('with a garbage plan in the offset log: CHECKPOINT_CORRUPT', async () => {
    await prepare();
    await withDb((db) => sublevels(db).offsets.put(batchKey(2 * RUN), GARBAGE));
    await expectRefused(new RegExp(`plan ${2 * RUN} cannot be decoded`));
    await expect(inspectCheckpoint(checkpoint())).rejects.toMatchObject({ code: 'CHECKPOINT_CORRUPT' });
  });

  it.each([
    ['an empty CURRENT file', async () => truncate(await file(/^CURRENT$/), 0)],
    ['a CURRENT file naming a missing manifest', async () => writeFile(await file(/^CURRENT$/), 'MANIFEST-999999\n')],
    ['a MANIFEST cut in half', async () => truncate(await file(/^MANIFEST-/), Math.floor((await stat(await file(/^MANIFEST-/))).size / 2))],
    // Every 1000 bytes: one block may hold only entries that neither a start nor an inspection
    // reads (old commits; only --verify reads them), and which block that is moves with the sizes.
    ['garbage in a table file', async () => {
      const table = await file(/\.ldb$/);
      const { size } = await stat(table);
      for (let at = 100; at < size - 200; at += 1000) await overwrite(table, at, 40);
    }],
    ['a table file cut short', async () => truncate(await file(/\.ldb$/), 200)],
  ])('with %s: CHECKPOINT_CORRUPT on inspection and on start', async (_what, damage) => {
    await prepare();
    await damage();
    await expect(inspectCheckpoint(checkpoint())).rejects.toMatchObject({ code: 'CHECKPOINT_CORRUPT' });
    await expectRefused(/damaged|could not be read/);
  });

  it('with garbage in the LevelDB log: CHECKPOINT_CORRUPT on inspection, before LevelDB drops the damaged records', async () => {
    await prepare();
    const log = await file(/^\d+\.log$/);
    expect((await stat(log)).size).toBeGreaterThan(32768);
    await overwrite(log, 1000, 40);
    await expect(inspectCheckpoint(checkpoint())).rejects.toMatchObject({ code: 'CHECKPOINT_CORRUPT', message: expect.stringMatching(/LevelDB's file \d+\.log: damaged at byte \d+ \(checksum mismatch\)/) as unknown });
    // Still damaged: the inspection did not let LevelDB open (and silently repair) it.
    await expect(inspectCheckpoint(checkpoint())).rejects.toMatchObject({ code: 'CHECKPOINT_CORRUPT' });
  });

  // Regression: LevelDB on its own skips a damaged block of its log, applies the later batches
  // without it and deletes the log, so the open checks the log first (findLogDamage).
  it('with garbage in the LevelDB log: CHECKPOINT_CORRUPT on start, never a silently wrong run', async () => {
    const straight: Outputs = new Map();
    await run(join(dir(), 'straight'), 0, 2 * RUN + 5, straight);
    await prepare();
    await overwrite(await file(/^\d+\.log$/), 1000, 40);
    const outputs: Outputs = new Map();
    const clock = new ManualClock(2 * RUN * 1000);
    const ctx = job(checkpoint(), clock, outputs);
    const refusal: unknown = await ctx.start().then(() => undefined, (error: unknown) => error);
    if (refusal === undefined) {
      for (let i = 0; i < 5; i++) await clock.advance(1000);
      await ctx.stop();
      for (const [batchId, keys] of outputs) expect(keys, `batch ${batchId}`).toBe(straight.get(batchId));
    }
    expect(refusal).toMatchObject({ code: 'CHECKPOINT_CORRUPT', message: expect.stringMatching(/LevelDB's file \d+\.log: damaged/) as unknown });
    expect(outputs.size).toBe(0);
  });

  it('with a log cut short, as a crash leaves it: the last writes are lost, replayed and the outputs are as if nothing happened', async () => {
    const straight: Outputs = new Map();
    await run(join(dir(), 'straight'), 0, 2 * RUN + 5, straight);
    await prepare();
    const log = await file(/^\d+\.log$/);
    await truncate(log, Math.floor((await stat(log)).size / 2));
    const before = await inspectCheckpoint(checkpoint());
    expect(before.lastCommitted?.batchId).toBeLessThan(2 * RUN - 1);
    const resumed: Outputs = new Map();
    await run(checkpoint(), 2 * RUN, 5, resumed);
    expect(Math.min(...resumed.keys())).toBe((before.lastCommitted?.batchId ?? -1) + 1);
    for (const [batchId, keys] of resumed) expect(keys, `batch ${batchId}`).toBe(straight.get(batchId));
  });
});
