import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { foreachBatch, keyBy, type DStream } from 'sluice';
import { agg, eventTimeWindow, session, withWatermark, type OutputMode } from 'sluice/windows';
import { runBatches } from 'sluice/testing';

/*
 * The late rule of session windows against a brute-force model: a record is late exactly when
 * every session it could belong to or merge into has closed. The model keeps the records of each
 * key's open sessions, and per batch:
 *   1. evicts the sessions (connected components of the records' `[t, t + gap]`) that end before
 *      `closedUpTo = watermark - lateness` (`end < closedUpTo`: one that ends there stays open);
 *   2. marks a record of the batch on time when its own window `[t, t + gap)` is open (`t + gap >=
 *      closedUpTo`) or it meets (touching included) a record of an open session, and then every
 *      record of the batch reachable from an on-time one through records that meet each other:
 *      reachability in a graph, not the operator's incremental merging.
 * The late records are the rest, in every mode but complete (none).
 */

interface Ev {
  readonly id: number;
  readonly key: string;
  readonly t: number;
}

interface Scenario {
  readonly gaps: Readonly<Record<string, number>>;
  readonly delay: number;
  readonly lateness: number;
  readonly partitions: number;
  readonly batches: readonly (readonly Ev[])[];
}

const meets = (a: number, b: number, gap: number): boolean => a <= b + gap && b <= a + gap;

/** The ids of the late records of each batch, by the rule above. */
function lateByModel(sc: Scenario): number[][] {
  const alive = new Map<string, Ev[]>();
  let max: number | undefined;
  return sc.batches.map((batch) => {
    const closedUpTo = max === undefined ? Number.NEGATIVE_INFINITY : max - sc.delay - sc.lateness;
    const late: number[] = [];
    for (const key of new Set([...alive.keys(), ...batch.map((e) => e.key)])) {
      const gap = sc.gaps[key] as number;
      // 1. Components of the open records by flooding; evict those that end before closedUpTo.
      const records = alive.get(key) ?? [];
      const component = records.map(() => -1);
      records.forEach((_, i) => {
        if (component[i] !== -1) return;
        const stack = [i];
        component[i] = i;
        while (stack.length > 0) {
          const j = stack.pop() as number;
          records.forEach((r, m) => {
            if (component[m] === -1 && meets(r.t, (records[j] as Ev).t, gap)) {
              component[m] = i;
              stack.push(m);
            }
          });
        }
      });
      const endOf = (c: number): number => Math.max(...records.filter((_, m) => component[m] === c).map((r) => r.t + gap));
      const open = records.filter((_, m) => endOf(component[m] as number) >= closedUpTo);
      // 2. Reachability from the on-time records of the batch.
      const mine = batch.filter((e) => e.key === key);
      const onTime = mine.map((e) => e.t + gap >= closedUpTo || open.some((r) => meets(r.t, e.t, gap)));
      for (let grew = true; grew; ) {
        grew = false;
        mine.forEach((e, i) => {
          if (onTime[i] === true || !mine.some((f, j) => onTime[j] === true && meets(e.t, f.t, gap))) return;
          onTime[i] = true;
          grew = true;
        });
      }
      alive.set(key, [...open, ...mine.filter((_, i) => onTime[i])]);
      late.push(...mine.filter((_, i) => !onTime[i]).map((e) => e.id));
    }
    for (const e of batch) max = Math.max(max ?? e.t, e.t);
    return late.sort((a, b) => a - b);
  });
}

async function lateBySluice(sc: Scenario, outputMode: OutputMode): Promise<number[][]> {
  const late: number[][] = [];
  await runBatches(
    sc.batches,
    (s: DStream<Ev>) => {
      const windowed = s.pipe(
        withWatermark((e: Ev) => e.t, sc.delay),
        keyBy((e: Ev) => e.key),
        eventTimeWindow(session((key) => sc.gaps[String(key)] as number), agg.count(), outputMode === 'complete' ? { outputMode } : { outputMode, late: 'sideOutput', allowedLateness: sc.lateness }),
      );
      if (outputMode !== 'complete') windowed.lateRecords().pipe(foreachBatch((records) => void late.push(records.map(([, e]) => e.id).sort((a, b) => a - b))));
      return windowed;
    },
    { numPartitions: sc.partitions },
  );
  return outputMode === 'complete' ? sc.batches.map(() => []) : late;
}

/** Records around `6 * batch`, up to 20 back and 6 ahead: many late ones, and many that meet. */
const scenario: fc.Arbitrary<Scenario> = fc
  .record({
    gaps: fc.record({ a: fc.integer({ min: 1, max: 8 }), b: fc.integer({ min: 1, max: 8 }) }),
    delay: fc.integer({ min: 0, max: 6 }),
    lateness: fc.integer({ min: 0, max: 6 }),
    partitions: fc.integer({ min: 1, max: 3 }),
    batches: fc.array(fc.array(fc.record({ key: fc.constantFrom('a', 'b'), dt: fc.integer({ min: -20, max: 6 }) }), { maxLength: 6 }), { minLength: 1, maxLength: 7 }),
  })
  .map(({ batches, ...rest }) => {
    let id = 0;
    return { ...rest, batches: batches.map((batch, k) => batch.map(({ key, dt }) => ({ id: ++id, key, t: 6 * k + dt }))) };
  });

describe('session windows: the late rule', () => {
  it.each<OutputMode>(['append', 'update', 'onTimeAndLate'])('a record is late exactly when every session it could belong to or merge into has closed (%s mode)', async (mode) => {
    await fc.assert(
      fc.asyncProperty(scenario, async (sc) => {
        expect(await lateBySluice(sc, mode)).toEqual(lateByModel(sc));
      }),
    );
  });

  it('no record is late in complete mode', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async (sc) => {
        const dropped: number[] = [];
        await runBatches(sc.batches, (s: DStream<Ev>) => s.pipe(withWatermark((e: Ev) => e.t, sc.delay), keyBy((e: Ev) => e.key), eventTimeWindow(session(3), agg.count(), { outputMode: 'complete' })), {
          numPartitions: sc.partitions,
          configure: (ctx) => {
            ctx.addListener((e) => {
              if (e.type === 'batchCompleted') dropped.push(e.progress.lateRecordsDropped);
            });
          },
        });
        expect(dropped.every((n) => n === 0)).toBe(true);
      }),
      { numRuns: 30 },
    );
  });
});
