import fc from 'fast-check';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Level } from 'level';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { inCheckpoint, LevelStateBackend, type LevelStateBackendOptions } from '../../state/level-state-backend.js';
import type { LevelStateStore } from '../../state/level-state-store.js';
import { writeBatch } from '../../state/level-layout.js';
import { encodeValue } from '../../state/value-codec.js';
import { commitBackend, pendingCommit } from '../support/commit-backend.js';

/*
 * The LevelDB store answers reads of keys it has no row for without asking the database when it
 * can prove the row is absent: the store was opened with no committed row (or all its rows were
 * deleted since), every row committed since is still in its cache, and every commit it prepared
 * was confirmed written. These tests check when it reads and when it does not, and that whatever
 * it does, it reads what the database holds.
 */

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-level-cache-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function openDb(dir?: string): Promise<Level> {
  const db = new Level(dir ?? (await tempDir()));
  await db.open();
  cleanups.push(() => db.close());
  return db;
}

/** Spies on every read a store can make (sublevels read through the root database). */
function spyReads(db: Level) {
  return { getMany: vi.spyOn(db, 'getMany'), get: vi.spyOn(db, 'get') };
}

const key = (i: number): string => `k${String(i).padStart(4, '0')}`;
const range = (from: number, to: number): string[] => Array.from({ length: to - from }, (_, i) => key(from + i));

async function rowsOf(store: LevelStateStore): Promise<Map<string, unknown>> {
  const out = new Map<string, unknown>();
  for await (const [k, v] of store.scanCommitted()) out.set(k, v);
  return out;
}

const bytesOf = (rows: Map<string, unknown>): number => [...rows].reduce((sum, [k, v]) => sum + k.length + encodeValue(v).byteLength, 0);
/** Rows per namespace (first character of the key), counted from the rows themselves. */
const namespacesOf = (rows: Map<string, unknown>): Record<string, number> => {
  const counts: Record<string, number> = {};
  for (const k of rows.keys()) counts[k.charAt(0)] = (counts[k.charAt(0)] ?? 0) + 1;
  return counts;
};

describe('LevelStateStore reads of absent keys', () => {
  it('answers a new store from its cache, without reading the database, while every committed row fits in it', async () => {
    const db = await openDb();
    const store = await LevelStateBackend.fromDatabase(db, { cacheSize: 1_000 }).open('op');
    const reads = spyReads(db);
    await store.load(range(0, 300));
    expect(range(0, 300).some((k) => store.has(k))).toBe(false);
    for (const [i, k] of range(0, 300).entries()) store.put(k, { i });
    await store.commit();
    await store.load(range(0, 600));
    expect(store.get(key(7))).toEqual({ i: 7 });
    expect(store.has(key(450))).toBe(false);
    for (const k of range(0, 100)) store.delete(k);
    for (const [i, k] of range(300, 600).entries()) store.put(k, { i: -i });
    await store.commit();
    await store.load(range(0, 700));
    expect([store.has(key(5)), store.get(key(200)), store.get(key(301)), store.has(key(650))]).toEqual([false, { i: 200 }, { i: -1 }, false]);
    expect([await store.getCommitted(key(5)), await store.getCommitted(key(650)), await store.getCommitted(key(299))]).toEqual([undefined, undefined, { i: 299 }]);
    expect(reads.getMany).not.toHaveBeenCalled();
    expect(reads.get).not.toHaveBeenCalled();
    const rows = await rowsOf(store);
    expect(rows.size).toBe(500);
    expect(store.stats()).toEqual({ rows: 500, bytes: bytesOf(rows), namespaces: namespacesOf(rows) });
  });

  it('reads the database again once its cache has dropped a committed row, and finds what is there', async () => {
    const db = await openDb();
    const store = await LevelStateBackend.fromDatabase(db, { cacheSize: 10 }).open('op');
    for (const k of range(0, 50)) store.put(k, k);
    await store.commit();
    const reads = spyReads(db);
    await store.load([...range(0, 50), 'never']);
    expect(reads.getMany).toHaveBeenCalledTimes(1);
    expect(range(0, 50).map((k) => store.get(k))).toEqual(range(0, 50));
    expect(store.has('never')).toBe(false);
    expect(await store.getCommitted(key(0))).toBe(key(0));
  });

  it('reads the database for keys it does not hold when opened on committed rows', async () => {
    const dir = await tempDir();
    const first = await LevelStateBackend.open(dir, { cacheSize: 1_000 });
    const store = await first.open('op');
    for (const k of range(0, 20)) store.put(k, k);
    await store.commit();
    await first.close();
    const db = await openDb(dir);
    const reopened = await LevelStateBackend.fromDatabase(db, { cacheSize: 1_000 }).open('op');
    const reads = spyReads(db);
    await reopened.load([key(3), key(30)]);
    expect(reads.getMany).toHaveBeenCalledTimes(1);
    expect([reopened.get(key(3)), reopened.has(key(30))]).toEqual([key(3), false]);
    expect(await reopened.getCommitted(key(31))).toBeUndefined();
    expect(reads.get).toHaveBeenCalledTimes(1);
  });

  it('knows it holds nothing again once all its rows are deleted, even after its cache dropped rows', async () => {
    const db = await openDb();
    const store = await LevelStateBackend.fromDatabase(db, { cacheSize: 2 }).open('op');
    for (const k of range(0, 10)) store.put(k, 1);
    await store.commit();
    await store.load(range(0, 10));
    for (const k of range(0, 10)) store.delete(k);
    await store.commit();
    expect(store.stats()).toEqual({ rows: 0, bytes: 0, namespaces: {} });
    const reads = spyReads(db);
    await store.load(range(0, 20));
    expect(range(0, 20).some((k) => store.has(k))).toBe(false);
    store.put(key(1), 2);
    await store.commit();
    expect(reads.getMany).not.toHaveBeenCalled();
  });

  it('does not trust its cache after a commit it prepared but was never told was written', async () => {
    const db = await openDb();
    const backend = LevelStateBackend.fromDatabase(db, { cacheSize: 1_000 });
    const store = await backend.open('op');
    store.put('a', 1);
    await commitBackend(backend, 0);
    store.put('b', 2);
    await backend.prepare(pendingCommit(1)); // written, but `committed()` is never called
    backend.aborted(1);
    const reads = spyReads(db);
    await store.load(['a', 'b', 'c']);
    expect(reads.getMany).toHaveBeenCalledTimes(1);
    expect([store.get('a'), store.get('b'), store.has('c')]).toEqual([1, 2, false]);
  });

  it('forgets what it cached of the keys of a commit that was written but never confirmed, once aborted', async () => {
    const db = await openDb();
    const backend = LevelStateBackend.fromDatabase(db, { cacheSize: 100 });
    const store = await backend.open('op');
    store.put('a', 0);
    store.put('b', 0);
    await commitBackend(backend, 0);
    store.delete('a');
    store.put('b', 1);
    await backend.prepare(pendingCommit(1));
    backend.aborted(1);
    await store.load(['a', 'b']);
    expect([store.has('a'), store.get('b'), await store.getCommitted('b')]).toEqual([false, 1, 1]);
  });

  it('still reads nothing for the keys of a new store when its cache holds no entry (cacheSize 0) until a row is committed', async () => {
    const db = await openDb();
    const store = await LevelStateBackend.fromDatabase(db, { cacheSize: 0 }).open('op');
    const reads = spyReads(db);
    await store.load(range(0, 5));
    store.put(key(0), 0);
    await store.commit();
    expect(reads.getMany).not.toHaveBeenCalled();
    await store.load(range(0, 5));
    expect(reads.getMany).toHaveBeenCalledTimes(1);
    expect([store.get(key(0)), store.has(key(1))]).toEqual([0, false]);
  });
});

describe('LevelStateStore rows written as raw bytes', () => {
  it('writes and reads the rows of its sublevel when its database is itself a sublevel, batched by an ancestor', async () => {
    const root = await openDb();
    const outer = root.sublevel('outer');
    // fromDatabase takes any abstract-level database; its type names the root class.
    const outerDb = outer as unknown as Level;
    // In a checkpoint: the backend gives its operations to the checkpoint's atomic write.
    const backend = inCheckpoint(outerDb, { cacheSize: 1 }, 'the test checkpoint');
    const store = await backend.open('op é');
    store.put('k\u00ff\u0000', { a: 1 });
    store.put('plain', [1, 2]);
    const operations: object[] = [];
    await backend.prepare({ ...pendingCommit(0), write: (ops) => void operations.push(...ops) });
    await writeBatch(root as never, operations as never);
    backend.committed(0);
    const rows = outer.sublevel<Buffer, Uint8Array>(['state', 'op%20%C3%A9'], { keyEncoding: 'buffer', valueEncoding: 'view' });
    const written = await rows.iterator().all();
    expect(written.map(([k]) => k.toString('latin1'))).toEqual(['k\u00ff\u0000', 'plain']);
    expect(await root.keys().all()).toHaveLength(3); // the two rows and the meta entry, all under `outer`
    const again = await LevelStateBackend.fromDatabase(outerDb, { cacheSize: 0 }).open('op é');
    await again.load(['k\u00ff\u0000', 'plain', 'none']);
    expect([again.get('k\u00ff\u0000'), again.get('plain'), again.has('none'), again.stats().rows]).toEqual([{ a: 1 }, [1, 2], false, 2]);
    store.delete('plain');
    await store.commit();
    expect((await rows.keys().all()).map((k) => k.toString('latin1'))).toEqual(['k\u00ff\u0000']);
  });
});

/** A step of the model test. */
type Step =
  | { readonly kind: 'write'; readonly writes: readonly (readonly [number, number | null])[] }
  | { readonly kind: 'commit' }
  | { readonly kind: 'backendCommit' }
  | { readonly kind: 'failedWrite' }
  | { readonly kind: 'unconfirmedWrite' }
  | { readonly kind: 'abort' }
  | { readonly kind: 'read'; readonly keys: readonly number[] }
  | { readonly kind: 'reopen' };

const KEYS = 12;
const step: fc.Arbitrary<Step> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('write' as const), writes: fc.array(fc.tuple(fc.nat(KEYS - 1), fc.option(fc.integer({ min: -3, max: 3 }), { freq: 4 })), { maxLength: 8 }) }), weight: 5 },
  { arbitrary: fc.constant({ kind: 'commit' as const }), weight: 3 },
  { arbitrary: fc.constant({ kind: 'backendCommit' as const }), weight: 2 },
  { arbitrary: fc.constant({ kind: 'failedWrite' as const }), weight: 1 },
  { arbitrary: fc.constant({ kind: 'unconfirmedWrite' as const }), weight: 1 },
  { arbitrary: fc.constant({ kind: 'abort' as const }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('read' as const), keys: fc.array(fc.nat(KEYS - 1), { maxLength: KEYS }) }), weight: 4 },
  { arbitrary: fc.constant({ kind: 'reopen' as const }), weight: 1 },
);

describe('LevelStateStore (model)', () => {
  it('reads what the database holds whatever the cache size or byte budget and the history of commits, failures and reopens', async () => {
    const caches = fc.constantFrom<LevelStateBackendOptions>({ cacheSize: 0 }, { cacheSize: 1 }, { cacheSize: 2 }, { cacheSize: 5 }, { cacheSize: 100 }, { cacheBytes: 0 }, { cacheBytes: 250 }, { cacheBytes: 1000 }, { cacheSize: 3, cacheBytes: 500 });
    await fc.assert(
      fc.asyncProperty(caches, fc.array(step, { maxLength: 40 }), async (cacheOptions, steps) => {
        const dir = await mkdtemp(join(tmpdir(), 'sluice-level-model-'));
        const db = new Level(dir);
        await db.open();
        let backend = LevelStateBackend.fromDatabase(db, cacheOptions);
        let store = await backend.open('op');
        /** The rows in the database, and the writes staged on top of them (null: a delete). */
        const committed = new Map<string, number>();
        const staged = new Map<string, number | null>();
        const view = (k: string): number | undefined => (staged.has(k) ? (staged.get(k) ?? undefined) : committed.get(k));
        const confirm = (): void => {
          for (const [k, v] of staged) {
            if (v === null) committed.delete(k);
            else committed.set(k, v);
          }
          staged.clear();
        };
        const reopen = async (): Promise<void> => {
          await backend.close();
          backend = LevelStateBackend.fromDatabase(db, cacheOptions);
          store = await backend.open('op');
          staged.clear();
        };
        try {
          for (const s of steps) {
            switch (s.kind) {
              case 'write':
                for (const [i, v] of s.writes) {
                  if (v === null) store.delete(key(i));
                  else store.put(key(i), v);
                  staged.set(key(i), v);
                }
                break;
              case 'commit':
                await store.commit();
                confirm();
                break;
              case 'backendCommit':
                await commitBackend(backend, 0);
                confirm();
                break;
              case 'failedWrite': {
                const batch = vi.spyOn(db, 'batch').mockRejectedValueOnce(new Error('disk full'));
                if (staged.size > 0) await expect(commitBackend(backend, 0)).rejects.toThrow('disk full');
                batch.mockRestore();
                backend.aborted(0);
                staged.clear();
                break;
              }
              case 'unconfirmedWrite': {
                // The write lands but the store is never told (a crash right after the write).
                await backend.prepare(pendingCommit(0));
                backend.aborted(0);
                confirm();
                // Reads must still find what the database holds...
                const all = range(0, KEYS);
                await store.load(all);
                expect(all.map((k) => store.get(k))).toEqual(all.map((k) => committed.get(k)));
                // ...and a context that lost a commit this way stops: its next run reopens.
                await reopen();
                break;
              }
              case 'abort':
                store.abort();
                staged.clear();
                break;
              case 'read': {
                const keys = s.keys.map(key);
                await store.load(keys);
                expect(keys.map((k) => store.get(k))).toEqual(keys.map(view));
                expect(keys.map((k) => store.has(k))).toEqual(keys.map((k) => view(k) !== undefined));
                for (const k of keys.slice(0, 3)) expect(await store.getCommitted(k)).toBe(committed.get(k));
                break;
              }
              case 'reopen':
                await reopen();
                break;
            }
          }
          const rows = await rowsOf(store);
          expect(rows).toEqual(new Map([...committed].sort(([a], [b]) => (a < b ? -1 : 1))));
          expect(store.stats()).toEqual({ rows: rows.size, bytes: bytesOf(rows), namespaces: namespacesOf(rows) });
        } finally {
          await backend.close();
          await db.close();
          await rm(dir, { recursive: true, force: true });
        }
      }),
      { numRuns: 80 },
    );
  });
});
