import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Level } from 'level';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BatchPlan, PendingCommit } from 'sluice/extend';
import { inCheckpoint } from '../../state/internal.js';

/*
 * A LevelDB store that knows every row loads keys without pinning them (StoreState.unpinned):
 * their rows stay the cache's, and a row the cache drops during the version goes to the version's
 * pinned rows. These examples make the cache drop a loaded key's row mid-version and read it.
 */

let dir: string;
let db: Level<string, Uint8Array>;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-unpinned-'));
  db = new Level<string, Uint8Array>(dir, { keyEncoding: 'utf8', valueEncoding: 'view' });
  await db.open();
});

afterEach(async () => {
  await db.close();
  await rm(dir, { recursive: true, force: true });
});

/** Prepares batch `batchId` of `backend`, returning its atomic write's operations. */
async function prepare(backend: ReturnType<typeof inCheckpoint>, batchId: number): Promise<object[]> {
  const operations: object[] = [];
  const commit: PendingCommit = { batchId, plan: { batchId } as BatchPlan, persistsState: true, write: (ops) => void operations.push(...ops) };
  await backend.prepare(commit);
  return operations;
}

describe('unpinned reads of a LevelDB store that knows every row', () => {
  it('reads a loaded key whose row the cache dropped while a pipelined commit was confirmed', async () => {
    // 17 entries: an eviction drops two (a sixteenth, rounded up), so once the new entry is gone
    // the oldest loaded one, given its second chance, goes too.
    const backend = inCheckpoint(db, { cacheSize: 17 }, dir);
    const store = await backend.open('op');
    const keys = Array.from({ length: 17 }, (_, i) => `k${String(i).padStart(2, '0')}`);
    // Batch 0 writes them, committed one after the other: the cache holds every row.
    await store.load(keys);
    for (const [i, k] of keys.entries()) store.put(k, i);
    await db.batch((await prepare(backend, 0)) as never);
    backend.committed(0);
    // Batch 1 adds n, handed off (pipelined): its write is confirmed during batch 2.
    await store.load(['n']);
    store.put('n', 100);
    const written = db.batch((await prepare(backend, 1)) as never);
    backend.handOff(1);
    // Batch 2 loads every key (unpinned), then batch 1's confirmation caches n: over capacity.
    await store.load([...keys, 'n']);
    await written;
    backend.committed(1);
    expect(keys.map((k) => store.get(k))).toEqual(keys.map((_, i) => i));
    expect([store.get('n'), store.has('k00'), store.has('n')]).toEqual([100, true, true]);
    // Its own writes over them; its commit counts every row once.
    store.put('k00', -1);
    store.delete('k01');
    await db.batch((await prepare(backend, 2)) as never);
    backend.committed(2);
    expect(store.stats().rows).toBe(17);
    const rows: unknown[] = [];
    for await (const entry of store.scanCommitted()) rows.push(entry);
    expect(rows).toEqual([['k00', -1], ...keys.slice(2).map((k, i) => [k, i + 2]), ['n', 100]]);
  });

  it('reads a loaded key whose row another store sharing the byte budget made the cache drop', async () => {
    // The first store's two rows fill most of the budget; the second store's rows, cached when its
    // handed-off commit is confirmed, push the total over it: the largest cache (the first's) drops.
    const backend = inCheckpoint(db, { cacheBytes: 1000 }, dir);
    const first = await backend.open('first');
    const second = await backend.open('second');
    await first.load(['a', 'b']);
    first.put('a', 'x'.repeat(300));
    first.put('b', 'y'.repeat(300));
    await db.batch((await prepare(backend, 0)) as never);
    backend.committed(0);
    // Batch 1: the second store's rows, handed off.
    const keys = ['k0', 'k1', 'k2', 'k3'];
    await second.load(keys);
    for (const k of keys) second.put(k, 'z'.repeat(60));
    const written = db.batch((await prepare(backend, 1)) as never);
    backend.handOff(1);
    // Batch 2: the first store loads a and b unpinned; then batch 1 is confirmed.
    await first.load(['a', 'b', 'c']);
    await written;
    backend.committed(1);
    expect([first.get('a'), first.get('b'), first.has('c')]).toEqual(['x'.repeat(300), 'y'.repeat(300), false]);
    first.put('c', 1);
    await db.batch((await prepare(backend, 2)) as never);
    backend.committed(2);
    expect(first.stats().rows).toBe(3);
  });

  it('reads a handed-off key from its write when the cache drops its older row before the write is confirmed', async () => {
    // The second store's rows, written beforehand by another backend (with its own cache budget):
    // the second store knows none of them, so its reads go to the database and cache what they read.
    const other = inCheckpoint(db, {}, dir);
    const writer = await other.open('second');
    await writer.load(['k0', 'k1', 'k2', 'k3']);
    for (const k of ['k0', 'k1', 'k2', 'k3']) writer.put(k, 'z'.repeat(60));
    await db.batch((await prepare(other, 0)) as never);
    other.committed(0);
    await writer.close();
    const backend = inCheckpoint(db, { cacheBytes: 1000 }, dir);
    const first = await backend.open('first');
    const second = await backend.open('second');
    await first.load(['a', 'b']);
    first.put('a', 'x'.repeat(300));
    first.put('b', 'y'.repeat(300));
    await db.batch((await prepare(backend, 0)) as never);
    backend.committed(0);
    // Batch 1 replaces a, handed off.
    await first.load(['a']);
    first.put('a', 'new');
    const written = db.batch((await prepare(backend, 1)) as never);
    backend.handOff(1);
    // Batch 2: the first store loads a and b unpinned; the second store's reads make the first's cache drop rows.
    await first.load(['a', 'b']);
    for (const k of ['k0', 'k1', 'k2', 'k3']) await second.getCommitted(k);
    expect([first.get('a'), first.get('b')]).toEqual(['new', 'y'.repeat(300)]);
    await written;
    backend.committed(1);
    expect([first.get('a'), first.get('b')]).toEqual(['new', 'y'.repeat(300)]);
  });
});
