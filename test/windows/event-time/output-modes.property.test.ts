import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { keyBy, type BatchProgress, type DStream } from 'sluice';
import { agg, eventTimeWindow, isRetraction, session, sliding, tumbling, withWatermark, type OutputMode, type WindowAssigner, type WindowOutput } from 'sluice/windows';
import { runBatches } from 'sluice/testing';

/*
 * Laws between the output modes, model-free:
 *   - a consumer that upserts every result of `update` or `onTimeAndLate` mode by (key, window)
 *     and deletes the row of every retraction ends, once every window has closed, with exactly
 *     the results `append` mode emitted: no stale row (a session merged away or extended) stays;
 *   - `onTimeAndLate` never emits a window before the batch's watermark has passed its end, and
 *     retracts only rows it emitted and has not retracted since.
 */

interface Ev {
  readonly id: number;
  readonly key: string;
  readonly t: number;
}

const FAR = 1_000_000;

type Spec = { readonly kind: 'tumbling'; readonly size: number } | { readonly kind: 'sliding'; readonly size: number; readonly slide: number } | { readonly kind: 'session'; readonly gap: number };

const specs: fc.Arbitrary<Spec> = fc.oneof(
  fc.record({ kind: fc.constant('tumbling' as const), size: fc.integer({ min: 1, max: 10 }) }),
  fc.integer({ min: 1, max: 4 }).chain((slide) => fc.record({ kind: fc.constant('sliding' as const), size: fc.integer({ min: slide, max: 12 }), slide: fc.constant(slide) })),
  fc.record({ kind: fc.constant('session' as const), gap: fc.integer({ min: 1, max: 8 }) }),
);

function assignerOf(spec: Spec): WindowAssigner {
  switch (spec.kind) {
    case 'tumbling':
      return tumbling(spec.size);
    case 'sliding':
      return sliding(spec.size, spec.slide);
    case 'session':
      return session(spec.gap);
  }
}

/** Events drifting up by 6 a batch, up to 14 back: late ones, and sessions that merge and extend. Then a far one that closes every window. */
const input = fc
  .array(fc.array(fc.record({ key: fc.constantFrom('a', 'b'), dt: fc.integer({ min: -14, max: 6 }) }), { maxLength: 5 }), { minLength: 1, maxLength: 7 })
  .map((batches) => {
    let id = 0;
    return [...batches.map((batch, k) => batch.map(({ key, dt }): Ev => ({ id: ++id, key, t: 6 * k + dt }))), [{ id: 0, key: 'zz', t: FAR }]];
  });

const idOf = (r: WindowOutput<string, number>): string => `${r.key} [${r.window.start}, ${r.window.end})`;

async function run(assigner: WindowAssigner, outputMode: OutputMode, delay: number, lateness: number, batches: Ev[][]) {
  const progress: BatchProgress[] = [];
  const out = await runBatches(
    batches,
    (s: DStream<Ev>) => s.pipe(withWatermark((e: Ev) => e.t, delay), keyBy((e: Ev) => e.key), eventTimeWindow(assigner, agg.count(), { outputMode, allowedLateness: lateness })),
    {
      numPartitions: 2,
      numBatches: batches.length + 1,
      configure: (ctx) => {
        ctx.addListener((e) => {
          if (e.type === 'batchCompleted') progress.push(e.progress);
        });
      },
    },
  );
  return { out, watermarks: progress.map((p) => p.watermark) };
}

describe('output modes', () => {
  it.each<OutputMode>(['update', 'onTimeAndLate'])('an upserting consumer of %s mode ends with exactly the append results: no stale row', async (mode) => {
    await fc.assert(
      fc.asyncProperty(specs, fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: 6 }), input, async (spec, delay, lateness, batches) => {
        const assigner = assignerOf(spec);
        const table = new Map<string, number>();
        const { out, watermarks } = await run(assigner, mode, delay, lateness, batches);
        out.forEach((batch, k) => {
          for (const r of batch) {
            if (isRetraction(r)) {
              expect(table.has(idOf(r)), `batch ${k} retracts ${idOf(r)}, which the consumer does not hold`).toBe(true);
              table.delete(idOf(r));
              continue;
            }
            if (mode === 'onTimeAndLate') {
              const w = watermarks[k];
              const passed = w !== undefined && (assigner.kind === 'session' ? r.window.end < w : r.window.end <= w);
              expect(passed, `batch ${k} (watermark ${w}) emits ${idOf(r)} early`).toBe(true);
            }
            // The flush record's window closes after the last batch: append never emits it.
            if (r.key !== 'zz') table.set(idOf(r), r.value);
          }
        });
        const appended = (await run(assigner, 'append', delay, lateness, batches)).out.flat();
        expect(appended.some(isRetraction)).toBe(false);
        expect(new Map([...table].sort())).toEqual(new Map(appended.map((r): [string, number] => [idOf(r), isRetraction(r) ? Number.NaN : r.value]).sort()));
      }),
    );
  });
});
