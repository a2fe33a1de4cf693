import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { flatMap, foreachBatch, map, mapToPair, union, type DStream, type StreamingContext } from 'sluice';
import { agg, eventTimeWindow, sliding, tumbling, withWatermark, type WindowAssigner } from 'sluice/windows';
import { runBatches } from 'sluice/testing';

/*
 * An event-time window runs the narrow chain before it (flatMap, mapToPair, ...) inside its own
 * pass over the chain's root batch, when it is the chain's only consumer. Law: the fused run
 * emits exactly what the unfused one does (the same chain with a second consumer, so it computes
 * its own batch): the same results in the same order, the same late records, the same records set
 * aside by the chain's error policy.
 */

interface Ev {
  readonly key: string;
  readonly ts: number;
  readonly copies: number;
}

const event = fc.record({ key: fc.constantFrom('a', 'b', 'c', 'd'), ts: fc.integer({ min: 0, max: 60 }), copies: fc.integer({ min: 0, max: 2 }) });
const batches = fc.array(fc.array(event, { maxLength: 12 }), { minLength: 1, maxLength: 6 });
const assigners: Record<string, WindowAssigner> = { tumbling: tumbling(10), sliding: sliding(20, 10) };

/** The job: each record in `copies` copies (none: dropped), `b`@multiples of 7 thrown on by mapToPair (skipped), counted and summed. */
function job(fused: boolean, assigner: WindowAssigner, outputMode: 'append' | 'update', aggregate: 'count' | 'sum') {
  return (s: DStream<Ev>): DStream<string> => {
    const pairs = s.pipe(
      withWatermark((e: Ev) => e.ts, 5),
      flatMap((e: Ev) => Array.from({ length: e.copies }, () => e)),
      mapToPair(
        (e: Ev): [string, number] => {
          if (e.key === 'b' && e.ts % 7 === 0) throw new Error('a bad record');
          return [e.key, e.ts];
        },
        { onError: 'skip' },
      ),
    );
    // A second consumer: the chain computes a batch of its own and the window reads it.
    if (!fused) pairs.pipe(foreachBatch(() => undefined));
    const windowed = pairs.pipe(eventTimeWindow(assigner, aggregate === 'count' ? agg.count() : agg.sum(), { outputMode, late: 'sideOutput' }));
    return windowed.pipe(
      map((r) => `${r.key}[${r.window.start},${r.window.end})=${'value' in r ? String(r.value) : 'retracted'}`),
      union(windowed.lateRecords().pipe(map(([key, ts]) => `late ${key}@${ts}`))),
    );
  };
}

describe('an event-time window fused with the narrow chain before it', () => {
  it('emits what the unfused chain does: results, their order, late records (law)', async () => {
    await fc.assert(
      fc.asyncProperty(
        batches,
        fc.constantFrom('tumbling', 'sliding'),
        fc.constantFrom('append' as const, 'update' as const),
        fc.constantFrom('count' as const, 'sum' as const),
        fc.integer({ min: 1, max: 3 }),
        async (input, kind, mode, aggregate, numPartitions) => {
          const assigner = assigners[kind] as WindowAssigner;
          // Each run's output per batch, and the records the chain's policy skipped per batch.
          const run = async (fused: boolean) => {
            const skipped: number[] = [];
            const configure = (ctx: StreamingContext): void => {
              ctx.addListener((e) => {
                if (e.type === 'batchCompleted') skipped.push(e.progress.numSkippedRecords);
              });
            };
            const out = await runBatches(input, job(fused, assigner, mode, aggregate), { numPartitions, numBatches: input.length + 2, configure });
            return { out, skipped };
          };
          expect(await run(true)).toEqual(await run(false));
        },
      ),
      { numRuns: 60 },
    );
  });
});
