import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { DStream } from 'sluice';
import { tumbling, windowJoin, type JoinType, type WindowResult } from 'sluice/windows';
import { runJoin, type Ev } from './join-harness.js';

/*
 * The window join against a brute-force oracle, tumbling windows of `size`: with the watermark
 * W_k = min(WL_k, WR_k) of batch k (each side's largest event time in batches before k minus its
 * delay; undefined until both have one; never decreasing) and h_k = W_k - allowedLateness, a
 * window [s, s + size) closes in the first batch k with s + size <= h_k; a record of batch k is
 * late when its window has closed by then. Each closed window gives, per key, the product of its
 * on-time left and right records (outer and semi rows as documented), in the batch it closes.
 */
const KEYS = ['a', 'b'];

const side = (prefix: string, numBatches: number) =>
  fc.array(fc.record({ key: fc.constantFrom(...KEYS), step: fc.integer({ min: 0, max: 4 }), jitter: fc.integer({ min: 0, max: 8 }), batch: fc.integer({ min: 0, max: numBatches - 1 }) }), { maxLength: 20 }).map((raw) => {
    const batches: Ev[][] = Array.from({ length: numBatches }, () => []);
    const cuts = raw.map((r) => r.batch).sort((a, b) => a - b);
    let base = 0;
    raw.forEach((r, i) => {
      base += r.step;
      (batches[cuts[i] as number] as Ev[]).push({ k: r.key, t: base + r.jitter, id: `${prefix}${i}` });
    });
    return batches;
  });

const scenario: fc.Arbitrary<Scenario> = fc.integer({ min: 2, max: 7 }).chain((n) =>
  fc.record({
    type: fc.constantFrom<JoinType>('inner', 'leftOuter', 'rightOuter', 'fullOuter', 'leftSemi'),
    size: fc.integer({ min: 1, max: 12 }),
    lateness: fc.constantFrom(0, 0, 4),
    delay: fc.tuple(fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: 6 })),
    left: side('l', n),
    right: side('r', n),
    numBatches: fc.integer({ min: n, max: n + 3 }),
  }),
);

interface Scenario {
  readonly type: JoinType;
  readonly size: number;
  readonly lateness: number;
  readonly delay: readonly [number, number];
  readonly left: Ev[][];
  readonly right: Ev[][];
  readonly numBatches: number;
}

function oracle(sc: Scenario): string[][] {
  const h: number[] = [];
  let w: number | undefined;
  const max = [Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY];
  for (let k = 0; k < sc.numBatches; k++) {
    if (max[0] !== Number.NEGATIVE_INFINITY && max[1] !== Number.NEGATIVE_INFINITY) w = Math.max(w ?? Number.NEGATIVE_INFINITY, Math.min((max[0] as number) - sc.delay[0], (max[1] as number) - sc.delay[1]));
    h.push(w === undefined ? Number.NEGATIVE_INFINITY : w - sc.lateness);
    for (const e of sc.left[k] ?? []) max[0] = Math.max(max[0] as number, e.t);
    for (const e of sc.right[k] ?? []) max[1] = Math.max(max[1] as number, e.t);
  }
  const start = (t: number) => Math.floor(t / sc.size) * sc.size;
  const onTime = (batches: Ev[][]) => batches.flatMap((b, k) => b.filter((e) => start(e.t) + sc.size > (h[k] as number)));
  const out: string[][] = Array.from({ length: sc.numBatches }, () => []);
  const lefts = onTime(sc.left);
  const rights = onTime(sc.right);
  const cells = new Set([...lefts, ...rights].map((e) => `${e.k}@${start(e.t)}`));
  for (const cell of cells) {
    const [key, s] = [cell.split('@')[0], Number(cell.split('@')[1])];
    const closes = h.findIndex((hk) => s + sc.size <= hk);
    if (closes < 0) continue;
    const ls = lefts.filter((e) => e.k === key && start(e.t) === s);
    const rs = rights.filter((e) => e.k === key && start(e.t) === s);
    const rows = out[closes] as string[];
    if (sc.type === 'leftSemi') {
      if (rs.length > 0) for (const l of ls) rows.push(`${s}:${l.id}`);
    } else if (rs.length === 0) {
      if (sc.type === 'leftOuter' || sc.type === 'fullOuter') for (const l of ls) rows.push(`${s}:${l.id}+-`);
    } else if (ls.length === 0) {
      if (sc.type === 'rightOuter' || sc.type === 'fullOuter') for (const r of rs) rows.push(`${s}:-+${r.id}`);
    } else {
      for (const l of ls) for (const r of rs) rows.push(`${s}:${l.id}+${r.id}`);
    }
  }
  return out.map((rows) => rows.sort());
}

describe('windowJoin against a brute-force oracle', () => {
  it('each closed window gives the product of its on-time records per key, in the batch the watermark closes it', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async (sc) => {
        const run = await runJoin(sc.left, sc.right, (l, r) => l.pipe(windowJoin(r, tumbling(sc.size), { type: sc.type, allowedLateness: sc.lateness })) as DStream<WindowResult<string, unknown>>, 'windowJoin#0', { numBatches: sc.numBatches, delay: sc.delay });
        const rows = run.map((b) =>
          b.rows
            .map(({ window, value }) => {
              if (!Array.isArray(value)) return `${window.start}:${(value as Ev).id}`;
              const [l, r] = value as [Ev | null, Ev | null];
              return `${window.start}:${l?.id ?? '-'}+${r?.id ?? '-'}`;
            })
            .sort(),
        );
        expect(rows).toEqual(oracle(sc));
      }),
      { numRuns: 120 },
    );
  });
});
