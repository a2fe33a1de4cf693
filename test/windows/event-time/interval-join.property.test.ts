import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { DStream, Pair } from 'sluice';
import { intervalJoin, type JoinType } from 'sluice/windows';
import { ids, runJoin, type Ev } from './join-harness.js';

/*
 * The interval join against a brute-force oracle. For random keyed events on both sides (event
 * times with bounded disorder), random batch cuts, bounds, delays and lateness, the rows of every
 * batch (as a multiset) equal what the rule below gives:
 *   - the operator's watermark of batch k: W_k = min(WL_k, WR_k), WS_k being the largest event
 *     time of side S in batches before k minus its delay (undefined while a side has seen
 *     nothing), never decreasing; h_k = W_k - allowedLateness (-infinity while undefined);
 *   - a record of batch k is late when its time is below h_k, and takes part in nothing;
 *   - a pair (l, r) of on-time records with the same key and l + lower <= r <= l + upper is a row
 *     `l+r` in batch max(k_l, k_r): the nested-loop join of all on-time records; this is the only
 *     exclusion the watermark makes (a buffered record is never evicted while an on-time record
 *     of the other side could still match it);
 *   - an on-time left record with no pair is a row `l+-` (leftOuter, fullOuter) in the first batch
 *     k >= k_l with l + upper < h_k; an on-time right record with no pair `-+r` (rightOuter,
 *     fullOuter) in the first k >= k_r with r - lower < h_k; none when no batch of the run has it;
 *   - leftSemi: an on-time left record with a pair is a row `l` in the batch of its first pair.
 */

interface Scenario {
  readonly type: JoinType;
  readonly lower: number;
  readonly upper: number;
  readonly lateness: number;
  readonly delay: readonly [number, number];
  /** Each side's events by batch. */
  readonly left: readonly (readonly Ev[])[];
  readonly right: readonly (readonly Ev[])[];
  readonly numBatches: number;
}

const KEYS = ['a', 'b', 'c'];

/** One side: events whose times advance with bounded disorder, cut into batches at random. */
const side = (prefix: string, numBatches: number) =>
  fc.array(fc.record({ key: fc.constantFrom(...KEYS), step: fc.integer({ min: 0, max: 4 }), jitter: fc.integer({ min: 0, max: 8 }), batch: fc.integer({ min: 0, max: numBatches - 1 }) }), { maxLength: 30 }).map((raw) => {
    const batches: Ev[][] = Array.from({ length: numBatches }, () => []);
    const sorted = raw.map((r) => r.batch).sort((a, b) => a - b);
    let base = 0;
    raw.forEach((r, i) => {
      base += r.step;
      (batches[sorted[i] as number] as Ev[]).push({ k: r.key, t: base + r.jitter, id: `${prefix}${i}` });
    });
    return batches;
  });

const scenario: fc.Arbitrary<Scenario> = fc.integer({ min: 2, max: 8 }).chain((numBatches) =>
  fc.record({
    type: fc.constantFrom<JoinType>('inner', 'leftOuter', 'rightOuter', 'fullOuter', 'leftSemi'),
    lower: fc.integer({ min: -10, max: 6 }),
    width: fc.integer({ min: 0, max: 12 }),
    lateness: fc.constantFrom(0, 0, 3),
    delay: fc.tuple(fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: 6 })),
    left: side('l', numBatches),
    right: side('r', numBatches),
    extra: fc.integer({ min: 0, max: 3 }),
  }).map(({ width, extra, ...s }) => ({ ...s, upper: s.lower + width, numBatches: numBatches + extra })),
);

/** The rows of each batch by the oracle above, as the ids `ids()` gives. */
function oracle(sc: Scenario): string[][] {
  const horizons: number[] = [];
  let w: number | undefined;
  const maxBefore = [Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY];
  for (let k = 0; k < sc.numBatches; k++) {
    const sides = [0, 1].map((s) => (maxBefore[s] === Number.NEGATIVE_INFINITY ? undefined : (maxBefore[s] as number) - (sc.delay[s] as number)));
    if (sides[0] !== undefined && sides[1] !== undefined) w = Math.max(w ?? Number.NEGATIVE_INFINITY, Math.min(sides[0], sides[1]));
    horizons.push(w === undefined ? Number.NEGATIVE_INFINITY : w - sc.lateness);
    for (const e of sc.left[k] ?? []) maxBefore[0] = Math.max(maxBefore[0] as number, e.t);
    for (const e of sc.right[k] ?? []) maxBefore[1] = Math.max(maxBefore[1] as number, e.t);
  }
  const onTime = (batches: readonly (readonly Ev[])[]) => batches.flatMap((b, k) => b.filter((e) => e.t >= (horizons[k] as number)).map((e) => ({ e, k })));
  const lefts = onTime(sc.left);
  const rights = onTime(sc.right);
  const out: string[][] = Array.from({ length: sc.numBatches }, () => []);
  const firstBatch = (from: number, evicted: (h: number) => boolean) => horizons.findIndex((h, k) => k >= from && evicted(h));
  const pairedR = new Set<string>();
  for (const l of lefts) {
    const pairs = rights.filter((r) => r.e.k === l.e.k && l.e.t + sc.lower <= r.e.t && r.e.t <= l.e.t + sc.upper);
    for (const r of pairs) pairedR.add(r.e.id);
    if (sc.type === 'leftSemi') {
      if (pairs.length > 0) out[Math.min(...pairs.map((r) => Math.max(l.k, r.k)))]?.push(l.e.id);
      continue;
    }
    for (const r of pairs) out[Math.max(l.k, r.k)]?.push(`${l.e.id}+${r.e.id}`);
    if (pairs.length === 0 && (sc.type === 'leftOuter' || sc.type === 'fullOuter')) out[firstBatch(l.k, (h) => l.e.t + sc.upper < h)]?.push(`${l.e.id}+-`);
  }
  if (sc.type === 'rightOuter' || sc.type === 'fullOuter') {
    for (const r of rights) if (!pairedR.has(r.e.id)) out[firstBatch(r.k, (h) => r.e.t - sc.lower < h)]?.push(`-+${r.e.id}`);
  }
  return out.map((rows) => rows.sort());
}

describe('intervalJoin against a brute-force oracle', () => {
  it('every batch gives the nested-loop join of the on-time records, and outer rows when the watermark evicts them', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, fc.integer({ min: 1, max: 3 }), async (sc, parallelism) => {
        const run = await runJoin(sc.left, sc.right, (l, r) => l.pipe(intervalJoin(r, { lowerBound: sc.lower, upperBound: sc.upper }, { type: sc.type, allowedLateness: sc.lateness })) as DStream<Pair<string, unknown>>, 'intervalJoin#0', {
          numBatches: sc.numBatches,
          delay: sc.delay,
          parallelism,
        });
        expect(ids(run).map((rows) => rows.sort())).toEqual(oracle(sc));
      }),
      { numRuns: 150 },
    );
  });
});
