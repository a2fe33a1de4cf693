import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Pair } from 'sluice';
import { LevelStateBackend, mapWithState, stateSpec, updateStateByKey, type State } from 'sluice/state';
import { runBatches } from 'sluice/testing';

/** 6 batches of 1,500 events over 2,000 keys: the state is 20 times the LevelDB cache of 100. */
function events(): Pair<string, number>[][] {
  let seed = 7;
  const next = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
  return Array.from({ length: 6 }, () => Array.from({ length: 1500 }, (): Pair<string, number> => [`key-${(next() >>> 8) % 2000}`, (next() >>> 8) % 100]));
}

const running = stateSpec((key: string, amount: number | undefined, state: State<{ n: number; sum: number }>) => {
  const s = state.getOption() ?? { n: 0, sum: 0 };
  const next = { n: s.n + 1, sum: s.sum + (amount ?? 0) };
  state.update(next);
  return [key, next.sum / next.n] as const;
}).ttl('3s');

describe('state larger than the LevelDB cache', () => {
  it('gives the same results as the memory store, for mapWithState and updateStateByKey', async () => {
    const input = events();
    const build = { numPartitions: 3 } as const;
    const expectedMapped = await runBatches(input, (s) => s.pipe(mapWithState(running)), { ...build, numBatches: 9 });
    const expectedTotals = await runBatches(input, (s) => s.pipe(updateStateByKey((v: number[], t: number | undefined) => (t ?? 0) + v.reduce((a, b) => a + b, 0))), build);
    const dir = await mkdtemp(join(tmpdir(), 'sluice-big-state-'));
    try {
      let backend: LevelStateBackend | undefined;
      const mapped = await runBatches(input, (s) => s.pipe(mapWithState(running)), {
        ...build,
        numBatches: 9,
        stateBackend: async () => (backend = await LevelStateBackend.open(join(dir, 'a'), { cacheSize: 100 })),
      });
      const totals = await runBatches(input, (s) => s.pipe(updateStateByKey((v: number[], t: number | undefined) => (t ?? 0) + v.reduce((a, b) => a + b, 0))), {
        ...build,
        stateBackend: () => LevelStateBackend.open(join(dir, 'b'), { cacheSize: 100 }),
      });
      expect(backend).toBeDefined();
      expect(mapped).toEqual(expectedMapped);
      expect(totals).toEqual(expectedTotals);
      expect(totals.at(-1)?.length).toBeGreaterThan(1000);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
