import { createHash } from 'node:crypto';
import { cp, mkdtemp, readdir, readFile, rm, truncate, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Level } from 'level';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { foreachBatch, ManualClock, mapToPair, StreamingContext } from 'sluice';
import { inspectCheckpoint, levelCheckpoint } from 'sluice/checkpoint';
import { encodeValue } from 'sluice/extend';
import { updateStateByKey } from 'sluice/state';
import { sublevels, type CheckpointDb } from '../../checkpoint/checkpoint-layout.js';
import { MARKER_FILE } from '../../checkpoint/checkpoint-marker.js';
import { longKeyCounts, runFor, runLongKeyCounts, useTempDir, type KeyCounts } from './checkpoint-harness.js';

/*
 * Damage to a checkpoint's files is refused at start with CHECKPOINT_CORRUPT, before LevelDB
 * opens the database: every file of the directory keeps its bytes (LevelDB's open would replay
 * its log into a new table, write a new MANIFEST and rotate its info log).
 */

const dir = useTempDir();
const RUN = 20;
let template = '';

type Outputs = KeyCounts;
const job = longKeyCounts;
const run = runLongKeyCounts;

// Two runs: the second run's open compacts the first run's log into a table file.
beforeAll(async () => {
  template = await mkdtemp(join(tmpdir(), 'sluice-damage-'));
  await run(template, 0, RUN);
  await run(template, RUN, RUN);
});

afterAll(async () => {
  await rm(template, { recursive: true, force: true });
});

/** A fresh copy of the two-run checkpoint. */
async function checkpoint(): Promise<string> {
  const path = join(dir(), 'ckpt');
  await cp(template, path, { recursive: true });
  return path;
}

/** Every file of the directory with a hash of its bytes. */
async function hashes(path: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of (await readdir(path)).sort()) out[name] = createHash('sha256').update(await readFile(join(path, name))).digest('hex');
  return out;
}

async function file(path: string, pattern: RegExp): Promise<string> {
  const names = (await readdir(path)).filter((f) => pattern.test(f));
  const name = names.sort().at(-1);
  if (name === undefined) throw new Error(`no file ${pattern} in the checkpoint`);
  return join(path, name);
}

async function flipByte(path: string, at: (size: number) => number): Promise<void> {
  const bytes = await readFile(path);
  const i = at(bytes.length);
  bytes[i] = (bytes[i] as number) ^ 0x10;
  await writeFile(path, bytes);
}

/** A start, then an inspection, on the damaged checkpoint: both refused, nothing run, every byte left. */
async function expectRefused(path: string, what: RegExp): Promise<void> {
  const before = await hashes(path);
  const outputs: Outputs = new Map();
  const ctx = job(path, new ManualClock(2 * RUN * 1000), outputs);
  await expect(ctx.start()).rejects.toMatchObject({ code: 'CHECKPOINT_CORRUPT', message: expect.stringMatching(what) as unknown });
  expect(outputs.size).toBe(0);
  expect(await hashes(path)).toEqual(before);
  await expect(inspectCheckpoint(path)).rejects.toMatchObject({ code: 'CHECKPOINT_CORRUPT' });
  expect(await hashes(path)).toEqual(before);
}

const tableFile = /^\d+\.ldb$/;
const logFile = /^\d+\.log$/;

describe('a damaged checkpoint is refused before anything is written', () => {
  it.each<[string, (path: string) => Promise<unknown>, RegExp]>([
    ['a bit flipped in the log, not its tail', async (path) => flipByte(await file(path, logFile), () => 1000), /\d+\.log: damaged at byte \d+ \(checksum mismatch\)/],
    ['a bit flipped in a table index', async (path) => flipByte(await file(path, tableFile), (size) => size - 48 - 10), /\d+\.ldb: its index block at byte \d+: checksum mismatch/],
    ['a bit flipped in a table footer', async (path) => flipByte(await file(path, tableFile), (size) => size - 1), /\d+\.ldb: its footer has no table magic number/],
    ['a truncated table', async (path) => truncate(await file(path, tableFile), 1000), /\d+\.ldb: it has 1000 bytes, the MANIFEST says \d+/],
    ['a deleted table', async (path) => unlink(await file(path, tableFile)), /\d+\.ldb: it is missing \(the MANIFEST lists it/],
    ['a deleted MANIFEST', async (path) => unlink(await file(path, /^MANIFEST-/)), /MANIFEST-\d+: it is missing \(CURRENT names it\)/],
    ['a deleted CURRENT', async (path) => unlink(join(path, 'CURRENT')), /CURRENT: it is missing/],
    ['a deleted current log', async (path) => unlink(await file(path, logFile)), /\d+\.log: it is missing/],
    ['an emptied CURRENT', async (path) => truncate(join(path, 'CURRENT'), 0), /CURRENT: it is empty/],
    ['an emptied MANIFEST', async (path) => truncate(await file(path, /^MANIFEST-/), 0), /MANIFEST-\d+: it does not describe the database/],
    ['an emptied table', async (path) => truncate(await file(path, tableFile), 0), /\d+\.ldb: it has 0 bytes/],
    ['every file emptied', async (path) => Promise.all((await readdir(path)).map((name) => truncate(join(path, name), 0))), /marker .* is damaged: it is empty/],
    ['every file but the marker emptied', async (path) => Promise.all((await readdir(path)).filter((n) => n !== MARKER_FILE).map((name) => truncate(join(path, name), 0))), /CURRENT: it is empty/],
    ['the database deleted, the marker left', async (path) => Promise.all((await readdir(path)).filter((n) => n !== MARKER_FILE).map((name) => unlink(join(path, name)))), /its LevelDB database is missing/],
    ['a garbage marker', async (path) => writeFile(join(path, MARKER_FILE), '{"sluice'), /marker .* is damaged: it is not JSON/],
  ])('%s: CHECKPOINT_CORRUPT, every byte left as it was', async (_what, damage, message) => {
    const path = await checkpoint();
    await damage(path);
    await expectRefused(path, message);
  });

  it('a bit flipped in a table data block: inspect --verify names the file and the keys of the block, and changes nothing', async () => {
    const path = await checkpoint();
    const table = await file(path, tableFile);
    await flipByte(table, (size) => Math.floor(size / 3));
    const before = await hashes(path);
    await expect(inspectCheckpoint(path, { verify: true })).rejects.toMatchObject({
      code: 'CHECKPOINT_CORRUPT',
      message: expect.stringMatching(/\d+\.ldb: its data block at byte \d+: checksum mismatch \(keys after ".*" up to ".*"\)/) as unknown,
    });
    expect(await hashes(path)).toEqual(before);
  });

  it('a sound checkpoint passes inspect --verify, every entry decoded', async () => {
    const info = await inspectCheckpoint(await checkpoint(), { verify: true });
    expect(info.verified?.entries).toBeGreaterThan(2 * RUN * 10);
  });
});

describe('the marker', () => {
  it('is written with the first durable commit, and holds the id of the database', async () => {
    const path = join(dir(), 'new');
    await run(path, 0, 0);
    expect(await readdir(path)).not.toContain(MARKER_FILE);
    await run(path, 0, 1);
    const marker = JSON.parse(await readFile(join(path, MARKER_FILE), 'utf8')) as { sluiceCheckpoint: number; id: string };
    expect(marker).toEqual({ sluiceCheckpoint: 1, id: expect.any(String) as unknown });
    await expect(inspectCheckpoint(path)).resolves.toMatchObject({ lastCommitted: { batchId: 0 } });
  });

  it('is written again for a checkpoint without one (written before markers), which resumes', async () => {
    const path = await checkpoint();
    await unlink(join(path, MARKER_FILE));
    const outputs: Outputs = new Map();
    await run(path, 2 * RUN, 2, outputs);
    expect([...outputs.keys()]).toEqual([2 * RUN, 2 * RUN + 1]);
    expect(await readdir(path)).toContain(MARKER_FILE);
  });

  it("refuses a marker with another checkpoint's database", async () => {
    const path = await checkpoint();
    const other = join(dir(), 'other');
    await run(other, 0, 1);
    await cp(join(other, MARKER_FILE), join(path, MARKER_FILE));
    const outputs: Outputs = new Map();
    await expect(job(path, new ManualClock(2 * RUN * 1000), outputs).start()).rejects.toMatchObject({ code: 'CHECKPOINT_CORRUPT', message: expect.stringMatching(/belongs to another checkpoint/) as unknown });
    expect(outputs.size).toBe(0);
  });

  it('refuses a marked directory whose database holds no commit', async () => {
    const path = join(dir(), 'empty');
    await run(path, 0, 0);
    await cp(join(await checkpoint(), MARKER_FILE), join(path, MARKER_FILE));
    await expect(job(path, new ManualClock(), new Map()).start()).rejects.toMatchObject({ code: 'CHECKPOINT_CORRUPT', message: expect.stringMatching(/holds no commit/) as unknown });
  });
});

describe('a directory that is not a checkpoint', () => {
  it('with other files: refused as such (CHECKPOINT_UNAVAILABLE), every byte left', async () => {
    const path = join(dir(), 'data');
    await cp(template, path, { recursive: true });
    await Promise.all((await readdir(path)).map((name) => unlink(join(path, name))));
    await writeFile(join(path, 'notes.txt'), 'not a checkpoint');
    const before = await hashes(path);
    await expect(job(path, new ManualClock(), new Map()).start()).rejects.toMatchObject({ code: 'CHECKPOINT_UNAVAILABLE', message: expect.stringMatching(/is not empty and holds no Sluice checkpoint \(notes\.txt\)/) as unknown });
    expect(await hashes(path)).toEqual(before);
  });

  it('with a LevelDB database of something else: refused as such (CHECKPOINT_UNAVAILABLE)', async () => {
    const path = join(dir(), 'foreign');
    const db: CheckpointDb = new Level<string, Uint8Array>(path, { keyEncoding: 'utf8', valueEncoding: 'view' });
    await db.put('user:1', Uint8Array.of(1));
    await db.close();
    await expect(job(path, new ManualClock(), new Map()).start()).rejects.toMatchObject({ code: 'CHECKPOINT_UNAVAILABLE', message: expect.stringMatching(/not a Sluice checkpoint/) as unknown });
  });
});

describe('damaged state in a checkpoint', () => {
  it('a committed state value that cannot be decoded: CHECKPOINT_CORRUPT naming the operator and the key, and the batch is not committed', async () => {
    const path = await checkpoint();
    const db: CheckpointDb = new Level<string, Uint8Array>(path, { keyEncoding: 'utf8', valueEncoding: 'view' });
    // Every state row of 'counts': the next batch's keys are new, but their neighbours' bulk read is not what loads them.
    const rows = db.sublevel<Buffer, Uint8Array>(['state', 'counts'], { keyEncoding: 'buffer', valueEncoding: 'view' });
    for await (const key of rows.keys()) await rows.put(key, Uint8Array.of(0xde, 0xad));
    const committed = (await sublevels(db).commits.keys().all()).length;
    await db.close();
    const clock = new ManualClock(2 * RUN * 1000);
    const outputs: Outputs = new Map();
    // A job whose keys repeat the committed ones: batch 40 reads the state of keys 0..9.
    const ctx = new StreamingContext({ batchInterval: 1000, clock, checkpoint: levelCheckpoint(path) });
    ctx
      .rateStream({ rowsPerSecond: 1000, startTime: 0, backfill: true, maxRecordsPerBatch: 10, generate: (i) => `key-${i % 10}-`.padEnd(200, '.') })
      .pipe(
        mapToPair((k: string) => [k, 1]),
        updateStateByKey((ones: number[], n: number | undefined) => (n ?? 0) + ones.length, { name: 'counts' }),
        foreachBatch((records, { batchId }) => void outputs.set(batchId, records.length)),
      );
    await runFor(ctx, clock, 1);
    await ctx.stop();
    expect(ctx.failure).toMatchObject({
      code: 'CHECKPOINT_CORRUPT',
      operator: 'counts',
      message: expect.stringMatching(/is damaged: State store 'counts': the value of key 0x[0-9a-f]+ cannot be decoded.*The batch was not committed/) as unknown,
    });
    expect(outputs.size).toBe(0);
    const reopened: CheckpointDb = new Level<string, Uint8Array>(path, { keyEncoding: 'utf8', valueEncoding: 'view' });
    expect((await sublevels(reopened).commits.keys().all()).length).toBe(committed);
    await reopened.close();
  });

  it('a damaged state meta entry: CHECKPOINT_CORRUPT at start, naming the operator', async () => {
    const path = await checkpoint();
    const db: CheckpointDb = new Level<string, Uint8Array>(path, { keyEncoding: 'utf8', valueEncoding: 'view' });
    await db.sublevel<string, Uint8Array>('state-meta', { keyEncoding: 'utf8', valueEncoding: 'view' }).put('counts', encodeValue('not json'));
    await db.close();
    await expect(job(path, new ManualClock(2 * RUN * 1000), new Map()).start()).rejects.toMatchObject({ code: 'CHECKPOINT_CORRUPT', operator: 'counts' });
  });
});
