import { Level } from 'level';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SluiceError } from 'sluice';
import { decodeKey, decodeValue, encodeValue, MemoryStateStore } from 'sluice/extend';
import { LevelStateBackend, MemoryStateBackend } from 'sluice/state';
import { StateValueDecodeError } from '../../state/internal.js';
import { commitBackend, pendingCommit } from '../support/commit-backend.js';
import { useTempDirs } from '../support/temp-dir.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A fresh temporary directory, removed after the test. */
const tempDir = useTempDirs('sluice-state-errors-');

/** A database the test owns (closed after it, if still open), and a backend on it. */
async function levelBackend(options: { readonly cacheSize?: number } = {}): Promise<{ db: Level; backend: LevelStateBackend }> {
  const db = new Level(await tempDir());
  await db.open();
  cleanups.push(async () => {
    if (db.status === 'open') await db.close();
  });
  return { db, backend: LevelStateBackend.fromDatabase(db, options) };
}

/** The rows of operator `id`, as the backend lays them out (state/level-layout.ts), to damage them by hand. */
const rowsOf = (db: Level, id: string) => db.sublevel<Buffer, Uint8Array>(['state', id], { keyEncoding: 'buffer', valueEncoding: 'view' });

async function failureOf(run: () => unknown): Promise<unknown> {
  try {
    await run();
  } catch (error) {
    return error;
  }
  throw new Error('expected a failure');
}

describe('LevelStateStore: operational failures are SluiceErrors naming the operator', () => {
  it('STATE_IO_FAILED when its database is closed under it: load, scan and getCommitted', async () => {
    const { db, backend } = await levelBackend({ cacheSize: 0 });
    const store = await backend.open('counts');
    store.put('k', 1);
    await commitBackend(backend, 0);
    await db.close();
    for (const run of [() => store.load(['k']), async () => { for await (const _ of store.scan()) break; }, () => store.getCommitted('k')]) {
      const error = await failureOf(run);
      expect(error).toBeInstanceOf(SluiceError);
      expect(error).toMatchObject({ code: 'STATE_IO_FAILED', operator: 'counts', message: expect.stringMatching(/^State store 'counts' could not .*: Database is not open/) as unknown });
    }
  });

  it("STATE_IO_FAILED with LevelDB's error as the cause when a bulk read rejects", async () => {
    const { db, backend } = await levelBackend({ cacheSize: 0 });
    const store = await backend.open('counts');
    store.put('k', 1);
    await commitBackend(backend, 0);
    const disk = new Error('IO error: disk gone');
    vi.spyOn(db, 'getMany').mockRejectedValueOnce(disk);
    const error = await failureOf(() => store.load(['k']));
    expect(error).toMatchObject({ code: 'STATE_IO_FAILED', operator: 'counts', cause: disk, message: expect.stringMatching(/could not read 1 key\(s\): IO error: disk gone/) as unknown });
  });

  it('STATE_CORRUPT (a StateValueDecodeError) for a stored value that is damaged, naming the operator and the key', async () => {
    const { db, backend } = await levelBackend();
    const store = await backend.open('counts');
    await rowsOf(db, 'counts').put(Buffer.from('k', 'latin1'), Uint8Array.of(2, 0xc1));
    const error = await failureOf(() => store.load(['k']));
    expect(error).toBeInstanceOf(StateValueDecodeError);
    expect(error).toBeInstanceOf(SluiceError);
    expect(error).toMatchObject({ code: 'STATE_CORRUPT', operator: 'counts', key: 'k', message: expect.stringMatching(/^State store 'counts': the value of key 0x6b cannot be decoded: /) as unknown });
    expect((error as Error).cause).toMatchObject({ code: 'STATE_CORRUPT' });
  });

  it('STATE_CORRUPT for a value written by an unknown version of the codec, saying so', async () => {
    const { db, backend } = await levelBackend();
    const store = await backend.open('counts');
    await rowsOf(db, 'counts').put(Buffer.from('k', 'latin1'), Uint8Array.of(9, 1));
    await expect(store.getCommitted('k')).rejects.toMatchObject({ code: 'STATE_CORRUPT', message: expect.stringMatching(/unknown envelope version 9/) as unknown });
  });

  it('STATE_CORRUPT when a meta entry is damaged (not JSON) or is not one', async () => {
    const { db, backend } = await levelBackend();
    const metas = db.sublevel('state-meta', { keyEncoding: 'utf8', valueEncoding: 'utf8' });
    await metas.put('broken', '{"version": 1, "rows');
    await metas.put('other', '{"version": -1, "rows": 0, "bytes": 0}');
    await expect(backend.open('broken')).rejects.toMatchObject({ code: 'STATE_CORRUPT', operator: 'broken', message: expect.stringMatching(/^State store 'broken' could not read its meta entry: its data is damaged/) as unknown });
    await expect(backend.open('other')).rejects.toMatchObject({ code: 'STATE_CORRUPT', operator: 'other', message: expect.stringMatching(/its meta entry is corrupt/) as unknown });
  });

  it('STATE_IO_FAILED for a store or backend used after it was closed', async () => {
    const { backend } = await levelBackend();
    const store = await backend.open('counts');
    await store.close();
    expect(() => { store.put('k', 1); }).toThrow(expect.objectContaining({ code: 'STATE_IO_FAILED', operator: 'counts' }) as unknown);
    await expect(store.load(['k'])).rejects.toMatchObject({ code: 'STATE_IO_FAILED', message: expect.stringMatching(/^State store 'counts' is closed, so it cannot load keys/) as unknown });
    await backend.close();
    await expect(backend.open('other')).rejects.toMatchObject({ code: 'STATE_IO_FAILED', operator: 'other' });
    await expect(backend.prepare(pendingCommit(1))).rejects.toMatchObject({ code: 'STATE_IO_FAILED', message: expect.stringMatching(/is closed, so it cannot commit the state of batch 1/) as unknown });
  });

  it("COMMIT_FAILED when the backend's own atomic write of a batch's state fails", async () => {
    const { db, backend } = await levelBackend();
    const store = await backend.open('counts');
    store.put('k', 1);
    vi.spyOn(db, 'batch').mockRejectedValueOnce(new Error('disk full'));
    await expect(backend.prepare(pendingCommit(0))).rejects.toMatchObject({ code: 'COMMIT_FAILED', batchId: 0, message: expect.stringMatching(/could not write the state of batch 0: disk full/) as unknown });
  });

  it('STATE_IO_FAILED when the database cannot be opened (another backend holds it)', async () => {
    const dir = await tempDir();
    const first = await LevelStateBackend.open(dir);
    cleanups.push(() => first.close());
    await expect(LevelStateBackend.open(dir)).rejects.toMatchObject({ code: 'STATE_IO_FAILED', message: expect.stringMatching(/cannot be opened/) as unknown });
  });

  it('a TypeError, not a SluiceError, for get() of a key not loaded in this version (a mistake of the caller)', async () => {
    const { db, backend } = await levelBackend();
    const store = await backend.open('counts');
    store.put('a', 1);
    await commitBackend(backend, 0);
    const reopened = await LevelStateBackend.fromDatabase(db).open('counts');
    expect(() => reopened.get('a')).toThrow(TypeError);
    expect(() => reopened.get('a')).toThrow(/key 0x61 was not loaded in this version; call load\(\) with it/);
  });
});

describe('MemoryStateStore and MemoryStateBackend', () => {
  it('STATE_IO_FAILED for a closed store or backend, naming the operator where there is one', async () => {
    const backend = new MemoryStateBackend();
    const store = await backend.open('counts');
    await store.close();
    expect(() => { store.put('k', 1); }).toThrow(expect.objectContaining({ code: 'STATE_IO_FAILED', operator: 'counts' }) as unknown);
    const lone = new MemoryStateStore();
    await lone.close();
    await expect(lone.commit()).rejects.toMatchObject({ code: 'STATE_IO_FAILED', operator: undefined, message: expect.stringMatching(/^This state store is closed/) as unknown });
    await backend.close();
    await expect(backend.open('counts')).rejects.toMatchObject({ code: 'STATE_IO_FAILED' });
    expect(() => { backend.prepare(pendingCommit(3)); }).toThrow(/^The in-memory state backend is closed, so it cannot commit the state of batch 3/);
  });
});

describe('the codecs', () => {
  it('decodeValue and decodeKey throw STATE_CORRUPT for bytes they did not make, a TypeError for a wrong argument', () => {
    expect(() => decodeValue(Uint8Array.of())).toThrow(expect.objectContaining({ code: 'STATE_CORRUPT' }) as unknown);
    expect(() => decodeValue(Uint8Array.of(2, 0xc1))).toThrow(expect.objectContaining({ code: 'STATE_CORRUPT' }) as unknown);
    expect(() => decodeValue('x' as unknown as Uint8Array)).toThrow(TypeError);
    expect(() => decodeKey('\u0099')).toThrow(expect.objectContaining({ code: 'STATE_CORRUPT', message: expect.stringMatching(/^Malformed store key at byte 0/) as unknown }) as unknown);
    expect(() => decodeKey(3 as unknown as string)).toThrow(TypeError);
    expect(decodeValue(encodeValue({ a: 1 }))).toEqual({ a: 1 });
  });
});
