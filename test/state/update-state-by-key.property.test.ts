import fc from 'fast-check';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Pair } from 'sluice';
import { LevelStateBackend, updateStateByKey, useStateBackend } from 'sluice/state';
import { runBatches } from 'sluice/testing';

type Event = Pair<string, number>;

/** Cuts `records` into batches at the given cut points (empty batches included). */
function cut<T>(records: readonly T[], cuts: readonly number[]): T[][] {
  const points = [...new Set(cuts.map((c) => c % (records.length + 1)))].sort((a, b) => a - b);
  const batches: T[][] = [];
  let start = 0;
  for (const p of [...points, records.length]) {
    batches.push(records.slice(start, p));
    start = p;
  }
  return batches;
}

/** The reference: fold every key's whole history, removing the key when the fold says so. */
function foldHistory(records: readonly Event[]): Map<string, number[]> {
  const state = new Map<string, number[]>();
  for (const [key, value] of records) {
    const next = [...(state.get(key) ?? []), value];
    if (value === 0) state.delete(key);
    else state.set(key, next);
  }
  return state;
}

/** Appends a batch's values; a 0 removes the key (so removal and re-creation are exercised). */
function update(values: number[], state: number[] | undefined): number[] | undefined {
  let current = state;
  for (const v of values) current = v === 0 ? undefined : [...(current ?? []), v];
  return current;
}

const events = fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c', '__proto__', 'd'), fc.integer({ min: 0, max: 5 })), { maxLength: 40 });
const cuts = fc.array(fc.nat(), { maxLength: 6 });

describe('updateStateByKey (law)', () => {
  it('ends with the state that folding each key whole history gives, for any input and any batching', async () => {
    await fc.assert(
      fc.asyncProperty(events, cuts, fc.integer({ min: 1, max: 3 }), async (records, cutPoints, numPartitions) => {
        const batches = cut(records as Event[], cutPoints);
        const out = await runBatches(batches, (s) => s.pipe(updateStateByKey(update)), { numPartitions });
        const last = new Map(out.at(-1) ?? []);
        expect(last).toEqual(foldHistory(records as Event[]));
      }),
    );
  });

  it('gives the same result on the LevelDB backend with a cache smaller than the state', async () => {
    await fc.assert(
      fc.asyncProperty(events, cuts, async (records, cutPoints) => {
        const dir = await mkdtemp(join(tmpdir(), 'sluice-usbk-'));
        try {
          const batches = cut(records as Event[], cutPoints);
          const out = await runBatches(batches, (s) => s.pipe(updateStateByKey(update)), {
            configure: async (ctx) => {
              useStateBackend(ctx, await LevelStateBackend.open(dir, { cacheSize: 2 }));
            },
          });
          expect(new Map(out.at(-1) ?? [])).toEqual(foldHistory(records as Event[]));
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      }),
      { numRuns: 25 },
    );
  });
});
