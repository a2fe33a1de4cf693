import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { countByValue, filter, flatMap, map, transform, type DStream, type Pair } from 'sluice';
import { updateStateByKey } from 'sluice/state';
import { batchingInvariance, incrementalEqualsRecomputed, inverseLaw, replayDeterminism } from '../kit/laws.js';
import { keyedEvents, type KeyedEvent } from '../kit/generators.js';
import { expectLawToFail } from './law-failure.js';

const PARAMS = { numRuns: 30 } as const;
const events = keyedEvents(fc, { keys: 3, skew: 1, maxDisorder: 20, lateFraction: 0.1, duplicateFraction: 0.2 });
const plus = (a: number, b: number): number => a + b;
const minus = (a: number, b: number): number => a - b;

/** Drops a record already seen in the same batch: a deduplication that forgets across batches. */
const dedupeWithinBatch = transform((batch: { toArray(): KeyedEvent[] }) => {
  const seen = new Set<number>();
  return batch.toArray().filter((e) => !seen.has(e.id) && Boolean(seen.add(e.id)));
});

describe('batchingInvariance', () => {
  it('holds for a chain of map, filter and flatMap', async () => {
    const build = (s: DStream<KeyedEvent>) =>
      s.pipe(
        map((e: KeyedEvent) => ({ ...e, value: e.value * 2 })),
        filter((e: KeyedEvent) => e.key !== 'k1'),
        flatMap((e: KeyedEvent) => (e.value > 0 ? [e.id, e.time] : [e.id])),
      );
    await fc.assert(batchingInvariance(fc, { build, records: events }), PARAMS);
  });

  it('catches a deduplication that only looks within a batch, with a replayable counterexample', async () => {
    const failure = await expectLawToFail(batchingInvariance(fc, { build: (s: DStream<KeyedEvent>) => s.pipe(dedupeWithinBatch), records: events }), PARAMS);
    expect(failure.cause).toContain('batching invariance');
  });
});

describe('replayDeterminism', () => {
  it('holds for countByValue and updateStateByKey', async () => {
    const build = (s: DStream<KeyedEvent>) =>
      s.pipe(
        map((e: KeyedEvent) => e.key),
        countByValue(),
        updateStateByKey((counts: number[], total: number | undefined) => counts.reduce(plus, total ?? 0)),
      );
    await fc.assert(replayDeterminism(fc, { build, records: events }), PARAMS);
  });

  it('catches a counter kept outside the job (shared by its runs)', async () => {
    let counter = 0;
    const build = (s: DStream<KeyedEvent>) => s.pipe(map((e: KeyedEvent) => [e.id, counter++]));
    const failure = await expectLawToFail(replayDeterminism(fc, { build, records: events }), PARAMS);
    expect(failure.cause).toContain('replay determinism');
  });
});

describe('inverseLaw', () => {
  it('holds for (+, -) on integers', async () => {
    await fc.assert(inverseLaw(fc, { reduce: plus, inverse: minus, values: fc.integer({ min: -1e6, max: 1e6 }) }), PARAMS);
  });

  it('holds for merging and removing multisets of counts', async () => {
    type Counts = Record<string, number>;
    const merge = (a: Counts, b: Counts): Counts => Object.fromEntries([...new Set([...Object.keys(a), ...Object.keys(b)])].sort().map((k): [string, number] => [k, (a[k] ?? 0) + (b[k] ?? 0)]));
    const remove = (a: Counts, b: Counts): Counts => Object.fromEntries(Object.entries(a).map(([k, n]): [string, number] => [k, n - (b[k] ?? 0)]).filter(([, n]) => n !== 0));
    const values = fc.dictionary(fc.constantFrom('a', 'b', 'c'), fc.integer({ min: 1, max: 5 }));
    await fc.assert(inverseLaw(fc, { reduce: merge, inverse: remove, values, compare: (x, y) => {
      expect(x).toEqual(Object.fromEntries(Object.entries(y).sort()));
    } }), PARAMS);
  });

  it('catches an inverse that is not one, (a, b) => a - 2b', async () => {
    const failure = await expectLawToFail(inverseLaw(fc, { reduce: plus, inverse: (a: number, b: number) => a - 2 * b, values: fc.integer() }), PARAMS);
    expect(failure.cause).toContain('inverse law');
  });
});

describe('incrementalEqualsRecomputed', () => {
  for (const [length, slide] of [[3000, 1000], [4000, 2000], [3000, 3000]] as const) {
    it(`holds for reduceByKeyAndWindow(+, -) over ${length} ms every ${slide} ms`, async () => {
      await fc.assert(incrementalEqualsRecomputed(fc, { reduce: plus, inverse: minus, values: fc.integer({ min: -5, max: 5 }), length, slide, zero: 0 }), PARAMS);
    });
  }

  it('holds with a filter that drops keys whose count fell to 0', async () => {
    const filterZero = ([, n]: Pair<string, number>) => n > 0;
    await fc.assert(incrementalEqualsRecomputed(fc, { reduce: plus, inverse: minus, values: fc.integer({ min: 1, max: 3 }), length: 3000, filter: filterZero, numPartitions: 3 }), PARAMS);
  });

  it('catches an inverse that is not one, (a, b) => a - 2b', async () => {
    const wrong = (a: number, b: number): number => a - 2 * b;
    const failure = await expectLawToFail(incrementalEqualsRecomputed(fc, { reduce: plus, inverse: wrong, values: fc.integer({ min: 1, max: 5 }), length: 2000, zero: 0 }), PARAMS);
    expect(failure.cause).toContain('incremental = recomputed');
  });

  it('catches a missing zero: keys that left the window must be named', async () => {
    await expectLawToFail(incrementalEqualsRecomputed(fc, { reduce: plus, inverse: minus, values: fc.integer({ min: 1, max: 5 }), length: 2000 }), PARAMS);
  });
});

describe('the law messages', () => {
  it('say which law broke, with the seed, the path and the counterexample', async () => {
    const failure = await expectLawToFail(inverseLaw(fc, { reduce: plus, inverse: (a: number) => a, values: fc.integer() }), { ...PARAMS, seed: 3 });
    expect(failure.message).toMatch(/seed: 3, path/);
    expect(failure.counterexample).toMatch(/^\[\[-?\d+.*\],\[-?\d+.*\]\]$/);
  });
});
