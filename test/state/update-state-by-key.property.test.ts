import fc from 'fast-check';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Pair } from 'sluice';
import { LevelStateBackend, updateStateByKey } from 'sluice/state';
import { batched, runBatches } from 'sluice/testing';

type Event = Pair<string, number>;

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
/** The events cut into batches every way the kit generates (empty batches included). */
const batches = batched(fc, events as fc.Arbitrary<Event[]>);

describe('updateStateByKey (law)', () => {
  it('ends with the state that folding each key whole history gives, for any input and any batching', async () => {
    await fc.assert(
      fc.asyncProperty(batches, fc.integer({ min: 1, max: 3 }), async (input, numPartitions) => {
        const out = await runBatches(input, (s) => s.pipe(updateStateByKey(update)), { numPartitions });
        const last = new Map(out.at(-1) ?? []);
        expect(last).toEqual(foldHistory(input.flat()));
      }),
    );
  });

  it('gives the same result on the LevelDB backend with a cache smaller than the state', async () => {
    await fc.assert(
      fc.asyncProperty(batches, async (input) => {
        const dir = await mkdtemp(join(tmpdir(), 'sluice-usbk-'));
        try {
          const out = await runBatches(input, (s) => s.pipe(updateStateByKey(update)), {
            stateBackend: () => LevelStateBackend.open(dir, { cacheSize: 2 }),
          });
          expect(new Map(out.at(-1) ?? [])).toEqual(foldHistory(input.flat()));
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      }),
      { numRuns: 25 },
    );
  });
});
