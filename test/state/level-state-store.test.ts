import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Level } from 'level';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LevelStateBackend, type LevelStateBackendOptions } from '../../state/level-state-backend.js';
import { StateValueDecodeError } from '../../state/level-state-store.js';
import { MemoryStateStore } from '../../state/memory-state-store.js';
import type { StateStore } from '../../state/state-store.js';
import { encodeValue } from '../../state/value-codec.js';
import { stateStoreSuite } from '../kit/state-store-suite.js';
import { commitBackend } from '../support/commit-backend.js';
import { useTempDirs } from '../support/temp-dir.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A fresh temporary directory, removed after the test. */
const tempDir = useTempDirs('sluice-level-state-');

/** A fresh database that the test owns, closed after it. */
async function openDb(): Promise<Level> {
  const db = new Level(await tempDir());
  await db.open();
  cleanups.push(() => db.close());
  return db;
}

function levelFactory(options?: LevelStateBackendOptions) {
  return async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-level-state-'));
    let backend = await LevelStateBackend.open(dir, options);
    return {
      store: await backend.open('op') as StateStore,
      reopen: async () => {
        await backend.close();
        backend = await LevelStateBackend.open(dir, options);
        return backend.open('op');
      },
      cleanup: async () => {
        await backend.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  };
}

describe('LevelStateStore conformance', () => {
  stateStoreSuite({ test: it, factory: levelFactory() });
});

describe('LevelStateStore conformance with a cache of 2 entries', () => {
  stateStoreSuite({ test: it, factory: levelFactory({ cacheSize: 2 }) });
});

describe('LevelStateStore conformance with a byte budget of 300 bytes', () => {
  stateStoreSuite({ test: it, factory: levelFactory({ cacheBytes: 300 }) });
});

const key = (i: number): string => `k${String(i).padStart(5, '0')}`;

async function entries(iterable: AsyncIterable<readonly [string, unknown]>): Promise<[string, unknown][]> {
  const out: [string, unknown][] = [];
  for await (const [k, v] of iterable) out.push([k, v]);
  return out;
}

describe('LevelStateStore', () => {
  it('throws from get and has for a key neither loaded, cached nor staged', async () => {
    const backend = LevelStateBackend.fromDatabase(await openDb());
    const store = await backend.open('op');
    store.put('a', 1);
    await store.commit();
    expect(store.get('a')).toBe(1);
    expect(() => store.get('b')).toThrow(/load/);
    expect(() => store.has('b')).toThrow(/load/);
    store.put('b', 2);
    expect(store.get('b')).toBe(2);
  });

  it('reads more keys than its cache holds through load, like the memory store', async () => {
    const dir = await tempDir();
    let backend = await LevelStateBackend.open(dir, { cacheSize: 100 });
    cleanups.push(() => backend.close());
    let level = await backend.open('op');
    const memory = new MemoryStateStore();
    const keys = Array.from({ length: 2_000 }, (_, i) => key((i * 7_919) % 2_000));
    for (let round = 0; round < 3; round++) {
      for (const store of [level, memory] as StateStore[]) {
        await store.load(keys);
        for (const [i, k] of keys.entries()) {
          const previous = store.get(k) as { n: number } | undefined;
          if ((i + round) % 5 === 0) store.delete(k);
          else store.put(k, { n: (previous?.n ?? 0) + i, round });
        }
        await store.commit();
      }
      if (round === 1) {
        await backend.close();
        backend = await LevelStateBackend.open(dir, { cacheSize: 100 });
        level = await backend.open('op');
      }
      await Promise.all([level.load(keys), memory.load(keys)]);
      expect(keys.map((k) => level.get(k))).toEqual(keys.map((k) => memory.get(k)));
      expect(await entries(level.scan())).toEqual(await entries(memory.scan()));
      expect(level.stats().rows).toBe(memory.stats().rows);
    }
  });

  it('reads the keys of a load with one getMany', async () => {
    const db = await openDb();
    const backend = LevelStateBackend.fromDatabase(db, { cacheSize: 10 });
    const store = await backend.open('op');
    for (let i = 0; i < 500; i++) store.put(key(i), i);
    await store.commit();
    const getMany = vi.spyOn(db, 'getMany');
    await store.load(Array.from({ length: 500 }, (_, i) => key(i)));
    expect(getMany).toHaveBeenCalledTimes(1);
    expect(getMany.mock.calls[0]?.[0]).toHaveLength(490);
    await store.load([key(1), key(2), 'fresh', 'fresh']);
    expect(getMany).toHaveBeenCalledTimes(2);
    expect(getMany.mock.calls[1]?.[0]).toHaveLength(1);
    await store.load([key(3), 'fresh']);
    expect(getMany).toHaveBeenCalledTimes(2);
  });

  it('counts the rows per namespace of a store written before Sluice counted them once, at its first commit', async () => {
    const db = await openDb();
    const backend = LevelStateBackend.fromDatabase(db, { cacheSize: 0 });
    const store = await backend.open('op');
    for (let i = 0; i < 30; i++) store.put(`S${key(i)}`, i);
    for (let i = 0; i < 20; i++) store.put(`D${key(i)}`, 1);
    store.put('V', 2);
    await store.commit();
    expect(store.stats().namespaces).toEqual({ S: 30, D: 20, V: 1 });
    await backend.close();
    // What an earlier version wrote: version, rows and bytes only.
    const metas = db.sublevel<string, { version: number; rows: number; bytes: number }>('state-meta', { valueEncoding: 'json' });
    const { version, rows, bytes } = (await metas.get('op')) as { version: number; rows: number; bytes: number };
    await metas.put('op', { version, rows, bytes });
    const reopened = await LevelStateBackend.fromDatabase(db, { cacheSize: 0 }).open('op');
    expect(reopened.stats()).toEqual({ rows: 51, bytes });
    reopened.delete(`S${key(0)}`);
    reopened.put('Tx', 1);
    await reopened.commit();
    expect(reopened.stats()).toMatchObject({ rows: 51, namespaces: { S: 29, D: 20, V: 1, T: 1 } });
  });

  it('counts unknown keys at commit with one getMany, and keeps rows and bytes exact', async () => {
    const db = await openDb();
    const backend = LevelStateBackend.fromDatabase(db, { cacheSize: 0 });
    const store = await backend.open('op');
    for (let i = 0; i < 100; i++) store.put(key(i), { i });
    await store.commit();
    const getMany = vi.spyOn(db, 'getMany');
    for (let i = 50; i < 150; i++) store.put(key(i), { i: -i });
    for (let i = 0; i < 10; i++) store.delete(key(i));
    await store.commit();
    expect(getMany).toHaveBeenCalledTimes(1);
    const rows = await entries(store.scanCommitted());
    expect(store.stats().rows).toBe(140);
    expect(store.stats().bytes).toBe(rows.reduce((sum, [k, v]) => sum + k.length + encodeValue(v).byteLength, 0));
    for (const [k] of rows) store.delete(k);
    await store.commit();
    expect(store.stats()).toEqual({ rows: 0, bytes: 0, namespaces: {} });
  });

  it('names the operator and the key when a stored value cannot be decoded', async () => {
    const db = await openDb();
    const backend = LevelStateBackend.fromDatabase(db);
    const store = await backend.open('op');
    await db.sublevel<Buffer, Uint8Array>(['state', 'op'], { keyEncoding: 'buffer', valueEncoding: 'view' }).put(Buffer.from('k\u00ff', 'latin1'), Uint8Array.of(0xee, 1));
    const error: unknown = await store.load(['k\u00ff']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StateValueDecodeError);
    expect((error as Error).message).toMatch(/'op'.*0x6bff/);
    await expect(entries(store.scan())).rejects.toThrow(StateValueDecodeError);
  });

  it('stops the database iterator when a scan is left early', async () => {
    const dir = await tempDir();
    const backend = await LevelStateBackend.open(dir);
    const store = await backend.open('op');
    for (let i = 0; i < 2_000; i++) store.put(key(i), i);
    await store.commit();
    let n = 0;
    for await (const _ of store.scan()) if (++n === 10) break;
    expect(n).toBe(10);
    await backend.close();
  });
});

describe('LevelStateBackend', () => {
  it('commits the stores of a batch atomically: a failed batch changes neither store', async () => {
    const db = await openDb();
    const backend = LevelStateBackend.fromDatabase(db);
    const a = await backend.open('a');
    const b = await backend.open('b');
    a.put('x', 1);
    b.put('y', 1);
    await commitBackend(backend, 0);
    a.put('x', 2);
    a.put('x2', 2);
    b.delete('y');
    vi.spyOn(db, 'batch').mockRejectedValueOnce(new Error('disk full'));
    await expect(commitBackend(backend, 1)).rejects.toThrow('disk full');
    expect([a.version, b.version, a.stats().rows, b.stats().rows]).toEqual([1, 1, 1, 1]);
    expect([await a.getCommitted('x'), await a.getCommitted('x2'), await b.getCommitted('y')]).toEqual([1, undefined, 1]);
    backend.aborted(1);
    const reopened = LevelStateBackend.fromDatabase(db);
    await backend.close();
    const [a2, b2] = [await reopened.open('a'), await reopened.open('b')];
    await Promise.all([a2.load(['x', 'x2']), b2.load(['y'])]);
    expect([a2.version, b2.version, a2.get('x'), a2.has('x2'), b2.get('y')]).toEqual([1, 1, 1, false, 1]);
  });

  it('leaves every store as it was when a value cannot be encoded, and names its key', async () => {
    const db = await openDb();
    const backend = LevelStateBackend.fromDatabase(db);
    const a = await backend.open('a');
    const b = await backend.open('b');
    a.put('x', 1);
    await commitBackend(backend, 0);
    const batch = vi.spyOn(db, 'batch');
    a.put('x', 2);
    b.put('bad', () => 1);
    await expect(commitBackend(backend, 1)).rejects.toThrow(/'b'.*0x626164/);
    expect(batch).not.toHaveBeenCalled();
    expect([a.version, b.version, await a.getCommitted('x'), a.get('x')]).toEqual([1, 0, 1, 2]);
    backend.aborted(1);
    expect(a.get('x')).toBe(1);
  });

  it('leaves both stores as they were when the database is closed before commit', async () => {
    const dir = await tempDir();
    const db = new Level<string, string>(dir);
    await db.open();
    const backend = LevelStateBackend.fromDatabase(db);
    const a = await backend.open('a');
    const b = await backend.open('b');
    a.put('x', 1);
    await commitBackend(backend, 0);
    await b.load(['y']);
    a.put('x', 2);
    b.put('y', 2);
    await db.close();
    await expect(commitBackend(backend, 1)).rejects.toThrow();
    expect([a.version, b.version, a.stats().rows, b.stats().rows, a.get('x'), b.get('y')]).toEqual([1, 0, 1, 0, 2, 2]);
    await backend.close();
    const again = await LevelStateBackend.open(dir);
    const a2 = await again.open('a');
    const b2 = await again.open('b');
    await Promise.all([a2.load(['x']), b2.load(['y'])]);
    expect([a2.version, a2.get('x'), b2.version, b2.has('y')]).toEqual([1, 1, 0, false]);
    await again.close();
    await expect(commitBackend(again, 2)).rejects.toThrow(/closed/);
  });

  it('commits only the stores with staged writes, in one batch with their meta entries', async () => {
    const db = await openDb();
    const backend = LevelStateBackend.fromDatabase(db);
    const a = await backend.open('a');
    const b = await backend.open('b');
    const c = await backend.open('c');
    const batch = vi.spyOn(db, 'batch');
    a.put('x', 1);
    b.delete('y');
    await commitBackend(backend, 0);
    expect(batch).toHaveBeenCalledTimes(1);
    expect([a.version, b.version, c.version]).toEqual([1, 1, 0]);
    await commitBackend(backend, 1);
    expect(batch).toHaveBeenCalledTimes(1);
  });

  it('does not close a database it did not open', async () => {
    const db = await openDb();
    const backend = LevelStateBackend.fromDatabase(db);
    const store = await backend.open('op');
    store.put('a', 1);
    await commitBackend(backend, 0);
    await backend.close();
    expect(db.status).toBe('open');
    await db.put('still', 'usable');
    expect(await db.get('still')).toBe('usable');
  });

  it('closes a database it opened', async () => {
    const dir = await tempDir();
    const backend = await LevelStateBackend.open(dir);
    await backend.open('op');
    await backend.close();
    const db = new Level(dir);
    await db.open();
    await db.close();
  });

  it('keeps operators with unusual ids apart', async () => {
    const dir = await tempDir();
    const ids = ['a b', 'a%20b', 'a!b', 'a', 'é/ü', '!', '%', 'state'];
    let backend = await LevelStateBackend.open(dir);
    for (const [i, id] of ids.entries()) (await backend.open(id)).put('k', i);
    await commitBackend(backend, 0);
    await backend.close();
    backend = await LevelStateBackend.open(dir);
    cleanups.push(() => backend.close());
    for (const [i, id] of ids.entries()) {
      const store = await backend.open(id);
      expect(await entries(store.scan())).toEqual([['k', i]]);
      expect(store.stats().rows).toBe(1);
    }
  });

  it('gives the same store to concurrent opens, and validates its arguments', async () => {
    const db = await openDb();
    const backend = LevelStateBackend.fromDatabase(db);
    const [a, b] = await Promise.all([backend.open('op'), backend.open('op')]);
    expect(a).toBe(b);
    await expect(backend.open('')).rejects.toThrow(TypeError);
    expect(() => LevelStateBackend.fromDatabase(db, { cacheSize: -1 })).toThrow(RangeError);
    await expect(LevelStateBackend.open(await tempDir(), { cacheSize: 0.5 })).rejects.toThrow(RangeError);
  });
});
