import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fixtureUrl, runFixture, type JobRun, type Mode } from './parallel-harness.js';

/*
 * Executor equivalence: a job gives the same outputs, batch by batch and in the same order (and
 * sets aside the same records, counted alike), inline, through the SerializingExecutor (every
 * task's input and result copied, run on a second graph) and on 1 or 2 worker threads. Pipelines
 * are plain data (random-job.mjs builds them), so a counterexample prints readably; fast-check
 * prints the seed of a failure (FC_SEED replays it).
 */

const narrowOp = fc.oneof(
  fc.tuple(fc.constant('map'), fc.integer({ min: 1, max: 9 }), fc.integer({ min: 0, max: 9 })),
  fc.tuple(fc.constant('filter'), fc.integer({ min: 2, max: 5 }), fc.integer({ min: 0, max: 1 })),
  fc.tuple(fc.constant('flatMap'), fc.integer({ min: 1, max: 4 }), fc.constant(0)),
  fc.tuple(fc.constant('throwing'), fc.integer({ min: 3, max: 7 }), fc.integer({ min: 0, max: 2 })),
);
const keyedOp = fc.tuple(fc.constantFrom('reduce', 'group', 'join', 'update', 'mapWithState', 'window', 'reduceWindow', 'countWindow', 'reduceWindowFull', 'reduceWindowSlide2', 'groupWindow'), fc.option(fc.integer({ min: 1, max: 5 }), { nil: null }));

const spec = fc.record({
  batches: fc.array(fc.array(fc.integer({ min: 0, max: 200 }), { maxLength: 40 }), { minLength: 2, maxLength: 7 }),
  parts: fc.integer({ min: 1, max: 4 }),
  narrow: fc.array(narrowOp, { maxLength: 3 }),
  keys: fc.integer({ min: 1, max: 12 }),
  keyed: fc.array(keyedOp, { minLength: 1, maxLength: 2 }).filter((ops) => new Set(ops.map((o) => o[0])).size === ops.length),
  onError: fc.constantFrom('skip', 'deadLetter'),
  parallelism: fc.option(fc.integer({ min: 1, max: 6 }), { nil: undefined }),
});
const mode: fc.Arbitrary<Mode> = fc.constantFrom<Mode>('serializing', 1, 2);

describe('executor equivalence', () => {
  it('gives the inline outputs, set-aside counts and dead letters with any executor, batch by batch', async () => {
    // Keyed state over several batches: its workers' caches must be used, and never change a result.
    let cachedRows = 0;
    await fc.assert(
      fc.asyncProperty(spec, mode, async (s, m) => {
        // Keyed output is ordered by partition: the oracle runs with the partitions runJob gives
        // the workers when the job sets none (4 per worker).
        const inline: Mode = typeof m === 'number' && s.parallelism === undefined ? `inline:${4 * m}` : 'inline';
        const [oracle, run] = (await runFixture(fixtureUrl('random-job.mjs', { spec: JSON.stringify(s) }), [inline, m])) as [JobRun, JobRun];
        expect(run.failure).toEqual(oracle.failure);
        expect(run.collected).toEqual(oracle.collected);
        const counts = (r: JobRun): unknown => r.progress.map((p) => [p.batchId, p.numSkippedRecords, p.numDeadLetteredRecords, p.operators.map((o) => [o.operator, o.skippedRecords, o.deadLetteredRecords])]);
        expect(counts(run)).toEqual(counts(oracle));
        // Every batch with input ran its tasks on the workers.
        if (typeof m === 'number') for (const p of run.progress) if (p.numInputRecords > 0) expect(p.tasks?.tasks).toBeGreaterThan(0);
        for (const p of run.progress) for (const stage of p.tasks?.stages ?? []) cachedRows += stage.stateRowsCached ?? 0;
      }),
      { numRuns: 25 },
    );
    expect(cachedRows).toBeGreaterThan(0);
  }, 240_000);
});
