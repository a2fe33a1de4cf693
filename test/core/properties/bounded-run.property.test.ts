import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { filter, foreachBatch, keyBy, ManualClock, map, mapToPair, StreamingContext, type DStream } from 'sluice';
import { updateStateByKey } from 'sluice/state';
import { agg, eventTimeWindow, session, sliding, tumbling, withWatermark } from 'sluice/windows';

/*
 * A bounded run is the streaming run of the same program: for any pipeline and any cuts of the
 * input into batches, `runToCompletion` (batches cut by record count, a final watermark at the
 * end) gives the same final results per key and window as a streaming run on a ManualClock
 * stopped with `{ graceful: true, flush: true }`. Pipelines are generated as data, so a
 * counterexample prints readably; fast-check prints the seed of a failure (FC_SEED replays it).
 *
 * The input is out of order by at most the watermark delay (each time is a non-decreasing base
 * plus a jitter up to the delay), so no record is late in either run: lateness depends on the cuts,
 * and a law over any cuts must not.
 */

interface Ev {
  readonly key: string;
  readonly t: number;
  readonly n: number;
}

type Narrow = { readonly op: 'map'; readonly a: number; readonly b: number } | { readonly op: 'filter'; readonly m: number; readonly r: number };
type Assigner = { readonly kind: 'tumbling'; readonly size: number } | { readonly kind: 'sliding'; readonly size: number; readonly slide: number } | { readonly kind: 'session'; readonly gap: number };
type Terminal = { readonly op: 'window'; readonly assigner: Assigner; readonly agg: 'count' | 'sum' } | { readonly op: 'updateStateByKey' };
interface Pipeline {
  readonly narrow: readonly Narrow[];
  readonly terminal: Terminal;
  readonly delay: number;
}

const narrowArb: fc.Arbitrary<Narrow> = fc.oneof(
  fc.record({ op: fc.constant('map' as const), a: fc.integer({ min: -3, max: 3 }), b: fc.integer({ min: -5, max: 5 }) }),
  fc.record({ op: fc.constant('filter' as const), m: fc.integer({ min: 2, max: 4 }), r: fc.integer({ min: 0, max: 1 }) }),
);
const assignerArb: fc.Arbitrary<Assigner> = fc.oneof(
  fc.record({ kind: fc.constant('tumbling' as const), size: fc.integer({ min: 1, max: 30 }) }),
  fc.integer({ min: 1, max: 10 }).chain((slide) => fc.record({ kind: fc.constant('sliding' as const), size: fc.integer({ min: 1, max: 4 }).map((k) => k * slide), slide: fc.constant(slide) })),
  fc.record({ kind: fc.constant('session' as const), gap: fc.integer({ min: 1, max: 15 }) }),
);
const pipelineArb: fc.Arbitrary<Pipeline> = fc.record({
  narrow: fc.array(narrowArb, { maxLength: 3 }),
  terminal: fc.oneof(
    { weight: 3, arbitrary: fc.record({ op: fc.constant('window' as const), assigner: assignerArb, agg: fc.constantFrom('count' as const, 'sum' as const) }) },
    { weight: 1, arbitrary: fc.constant({ op: 'updateStateByKey' as const }) },
  ),
  delay: fc.integer({ min: 0, max: 10 }),
});

/** Events out of order by at most `delay`: a non-decreasing base time plus a jitter in [0, delay]. */
const eventsArb = (delay: number): fc.Arbitrary<Ev[]> =>
  fc.array(fc.record({ key: fc.constantFrom('a', 'b', 'c'), step: fc.integer({ min: 0, max: 8 }), jitter: fc.integer({ min: 0, max: delay }), n: fc.integer({ min: -5, max: 5 }) }), { maxLength: 40 }).map((rows) => {
    let base = 0;
    return rows.map(({ key, step, jitter, n }) => {
      base += step;
      return { key, t: base + jitter, n };
    });
  });

/** Cuts `events` into batches at `cuts` (sorted positions). */
function cut<T>(events: readonly T[], cuts: readonly number[]): T[][] {
  const positions = [...new Set(cuts.map((c) => c % (events.length + 1)))].sort((a, b) => a - b);
  const batches: T[][] = [];
  let from = 0;
  for (const to of [...positions, events.length]) {
    batches.push(events.slice(from, to));
    from = to;
  }
  return batches;
}

/** Applies the pipeline to `input` and collects its final results, keyed by `key|start|end` (windows) or key (state). */
function define(input: DStream<Ev>, pipeline: Pipeline, results: Map<string, number>): void {
  let stream = input;
  for (const step of pipeline.narrow) {
    stream = step.op === 'map' ? stream.pipe(map((e: Ev) => ({ ...e, n: e.n * step.a + step.b }))) : stream.pipe(filter((e: Ev) => ((e.n % step.m) + step.m) % step.m !== step.r));
  }
  const { terminal } = pipeline;
  if (terminal.op === 'updateStateByKey') {
    stream.pipe(
      mapToPair((e: Ev) => [e.key, e.n]),
      updateStateByKey((values: number[], total: number | undefined) => values.reduce((s, v) => s + v, total ?? 0)),
      foreachBatch((records) => {
        for (const [key, total] of records) results.set(key, total);
      }),
    );
    return;
  }
  const a = terminal.assigner;
  const assigner = a.kind === 'tumbling' ? tumbling(a.size) : a.kind === 'sliding' ? sliding(a.size, a.slide) : session(a.gap);
  const aggregate = terminal.agg === 'count' ? agg.count() : agg.sum((e: Ev) => e.n);
  stream.pipe(
    withWatermark((e: Ev) => e.t, pipeline.delay),
    keyBy((e: Ev) => e.key),
    eventTimeWindow(assigner, aggregate),
    foreachBatch((records) => {
      for (const r of records) {
        const id = `${r.key}|${r.window.start}|${r.window.end}`;
        // Append mode: each window once, when final.
        expect(results.has(id), `window ${id} emitted twice`).toBe(false);
        results.set(id, r.value);
      }
    }),
  );
}

async function streamingRun(batches: readonly Ev[][], pipeline: Pipeline): Promise<Map<string, number>> {
  const clock = new ManualClock(0);
  const ctx = new StreamingContext({ batchInterval: 1000, clock, defaultParallelism: 2 });
  const results = new Map<string, number>();
  define(ctx.queueStream(batches.map((b) => [...b])), pipeline, results);
  await ctx.start();
  await clock.advance(1000 * batches.length);
  await ctx.stop({ graceful: true, flush: true });
  await ctx.awaitTermination();
  return results;
}

async function boundedRun(events: readonly Ev[], pipeline: Pipeline, maxRecordsPerBatch: number): Promise<Map<string, number>> {
  const ctx = new StreamingContext({ batchInterval: 1000, clock: new ManualClock(0), defaultParallelism: 2 });
  const results = new Map<string, number>();
  define(ctx.fromIterable(events), pipeline, results);
  await ctx.runToCompletion({ maxRecordsPerBatch });
  return results;
}

const sorted = (m: Map<string, number>): [string, number][] => [...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

describe('bounded run = streaming run', () => {
  it('for any pipeline and any batch cuts, runToCompletion gives the final results of a streaming run flushed at its stop', async () => {
    await fc.assert(
      fc.asyncProperty(
        pipelineArb.chain((pipeline) => fc.tuple(fc.constant(pipeline), eventsArb(pipeline.delay), fc.array(fc.nat(), { maxLength: 8 }), fc.integer({ min: 1, max: 12 }))),
        async ([pipeline, events, cuts, maxRecordsPerBatch]) => {
          const streaming = await streamingRun(cut(events, cuts), pipeline);
          const bounded = await boundedRun(events, pipeline, maxRecordsPerBatch);
          expect(sorted(bounded)).toEqual(sorted(streaming));
        },
      ),
      { numRuns: 60 },
    );
  });
});
