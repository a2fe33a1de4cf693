import fc from 'fast-check';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Level } from 'level';
import { describe, expect, it } from 'vitest';
import type { BatchPlan, PendingCommit } from 'sluice/extend';
import { inCheckpoint } from '../../state/internal.js';

/*
 * The state stores under the pipelined commit (CommitParticipant.handOff): a batch's writes are
 * handed off while its atomic write is in flight, and the next batch loads, reads, scans and
 * stages on them. Law: every read of every batch, the stores' row and byte counts and the rows
 * finally in the database are those of the same batches committed one after the other, whatever
 * the cache holds and wherever in the next batch the write completes.
 */

/** One batch: the keys it loads and reads, the puts (a value) and deletes (null) it stages. */
interface Step {
  readonly reads: readonly string[];
  readonly writes: readonly (readonly [string, number | null])[];
  /** With the pipelined commit: the previous batch's write completes after this many of the reads (then the rest). */
  readonly completeAfter: number;
}

const key = fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f').map((k) => `S${k}`);
const step: fc.Arbitrary<Step> = fc.record({
  reads: fc.array(key, { maxLength: 5 }),
  writes: fc.array(fc.tuple(key, fc.option(fc.integer({ min: 0, max: 99 }), { nil: null })), { maxLength: 5 }),
  completeAfter: fc.nat({ max: 5 }),
});

interface Observed {
  readonly reads: unknown[];
  readonly stats: unknown;
  readonly rows: unknown[];
}

async function run(steps: readonly Step[], cacheSize: number, pipelined: boolean): Promise<Observed> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-pipelined-state-'));
  const db = new Level<string, Uint8Array>(dir, { keyEncoding: 'utf8', valueEncoding: 'view' });
  await db.open();
  try {
    const backend = inCheckpoint(db, { cacheSize }, dir);
    const store = await backend.open('op');
    const reads: unknown[] = [];
    let inFlight: Promise<void> | undefined;
    for (const [batchId, s] of steps.entries()) {
      const keys = [...s.reads, ...s.writes.map(([k]) => k)];
      const complete = async (): Promise<void> => {
        await inFlight;
        inFlight = undefined;
      };
      for (const [i, k] of s.reads.entries()) {
        if (i === s.completeAfter) await complete();
        await store.load([k]);
        reads.push([batchId, k, store.get(k), store.has(k)]);
      }
      await store.load(keys);
      const scanned: unknown[] = [];
      for await (const entry of store.scan()) scanned.push(entry);
      reads.push([batchId, 'scan', scanned]);
      for (const [k, v] of s.writes) {
        if (v === null) store.delete(k);
        else store.put(k, v);
      }
      // Its own writes over the handed-off ones and the committed rows, and keys it read before.
      for (const k of keys) reads.push([batchId, 'after writes', k, store.get(k), store.has(k)]);
      // The commit of this batch follows the previous one's.
      await complete();
      const operations: object[] = [];
      const commit: PendingCommit = { batchId, plan: { batchId } as BatchPlan, persistsState: true, write: (ops) => void operations.push(...ops) };
      await backend.prepare(commit);
      const written = db.batch(operations as never);
      if (pipelined) {
        backend.handOff(batchId);
        inFlight = written.then(() => { backend.committed(batchId); });
      } else {
        await written;
        backend.committed(batchId);
      }
    }
    await inFlight;
    const rows: unknown[] = [];
    for await (const entry of store.scanCommitted()) rows.push(entry);
    return { reads, stats: store.stats(), rows };
  } finally {
    await db.close();
    await rm(dir, { recursive: true, force: true });
  }
}

describe('state stores under the pipelined commit', () => {
  it('read, scan, count and commit what the same batches committed one after the other give, whatever the cache holds', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 8 }), fc.constantFrom(0, 1, 3, 1000), async (steps, cacheSize) => {
        const expected = await run(steps, cacheSize, false);
        expect(await run(steps, cacheSize, true)).toEqual(expected);
      }),
      { numRuns: 60 },
    );
  });
});
