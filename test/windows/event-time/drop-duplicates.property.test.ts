import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { foreachBatch, map, type DStream } from 'sluice';
import { dropDuplicates, withWatermark } from 'sluice/windows';
import { exactlyOnceUnderCrash, keyedEvents, runBatches, type KeyedEvent } from 'sluice/testing';

/*
 * dropDuplicates against a first-seen filter over the records not yet expired. The model keeps a
 * Map from key to the time it is remembered until and, per batch, with `bound = watermark -
 * lateness` (the watermark: the greatest event time of the batches before, less the delay):
 *   1. forgets the keys remembered until before `bound`;
 *   2. takes the batch's records in order: a duplicate when its key is remembered, else late when
 *      `t + within < bound`, else kept and remembered until `t + within`.
 * In processing time the same with the batch's time for `t` and for `bound`.
 */

interface Ev {
  readonly id: number;
  readonly key: string;
  readonly t: number;
}

interface Scenario {
  readonly within: number;
  readonly delay: number;
  readonly lateness: number;
  readonly partitions: number;
  readonly batches: readonly (readonly Ev[])[];
}

interface Outcome {
  readonly kept: number[][];
  readonly late: number[][];
}

function byModel(sc: Scenario, eventTime: boolean, interval: number): Outcome {
  const remembered = new Map<string, number>();
  let max: number | undefined;
  const kept: number[][] = [];
  const late: number[][] = [];
  sc.batches.forEach((batch, b) => {
    const batchTime = (b + 1) * interval;
    const bound = !eventTime ? batchTime : max === undefined ? Number.NEGATIVE_INFINITY : max - sc.delay - sc.lateness;
    for (const [key, until] of remembered) if (until < bound) remembered.delete(key);
    const keptNow: number[] = [];
    const lateNow: number[] = [];
    for (const e of batch) {
      const t = eventTime ? e.t : batchTime;
      if (remembered.has(e.key)) continue;
      if (eventTime && t + sc.within < bound) lateNow.push(e.id);
      else {
        remembered.set(e.key, t + sc.within);
        keptNow.push(e.id);
      }
    }
    for (const e of batch) max = Math.max(max ?? e.t, e.t);
    kept.push(keptNow);
    late.push(lateNow);
  });
  return { kept, late };
}

async function bySluice(sc: Scenario, eventTime: boolean, interval: number): Promise<Outcome> {
  const late: number[][] = [];
  const kept = await runBatches(
    sc.batches,
    (s: DStream<Ev>) => {
      if (!eventTime) return s.pipe(dropDuplicates((e: Ev) => e.key, { within: sc.within }));
      const deduped = s.pipe(withWatermark((e: Ev) => e.t, sc.delay), dropDuplicates((e: Ev) => e.key, { within: sc.within, allowedLateness: sc.lateness, late: 'sideOutput' }));
      deduped.lateRecords().pipe(foreachBatch((records) => void late.push(records.map((e) => e.id))));
      return deduped;
    },
    { numPartitions: sc.partitions, batchInterval: interval },
  );
  return { kept: kept.map((batch) => batch.map((e) => e.id)), late: eventTime ? late : sc.batches.map(() => []) };
}

/** Records around `6 * batch`, up to 20 back and 6 ahead, of a few keys: many duplicates, many late ones. */
const scenario: fc.Arbitrary<Scenario> = fc
  .record({
    within: fc.integer({ min: 1, max: 15 }),
    delay: fc.integer({ min: 0, max: 6 }),
    lateness: fc.integer({ min: 0, max: 6 }),
    partitions: fc.integer({ min: 1, max: 3 }),
    batches: fc.array(fc.array(fc.record({ key: fc.constantFrom('a', 'b', 'c', 'd'), dt: fc.integer({ min: -20, max: 6 }) }), { maxLength: 6 }), { minLength: 1, maxLength: 8 }),
  })
  .map(({ batches, ...rest }) => {
    let id = 0;
    return { ...rest, batches: batches.map((batch, k) => batch.map(({ key, dt }) => ({ id: ++id, key, t: 6 * k + dt }))) };
  });

describe('dropDuplicates: a first-seen filter over the keys not yet expired', () => {
  it('in event time: kept and late records as the model says, batch by batch', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async (sc) => {
        expect(await bySluice(sc, true, 1000)).toEqual(byModel(sc, true, 1000));
      }),
    );
  });

  it('in processing time: kept records as the model says, batch by batch', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async (sc) => {
        // Batches 5 ms apart, so `within` (1 to 15 ms) spans a few of them.
        expect(await bySluice(sc, false, 5)).toEqual(byModel(sc, false, 5));
      }),
    );
  });
});

describe('dropDuplicates: exactly once under crashes', () => {
  it('a crashed and recovered job keeps and drops the same records, with the same state, as one that never crashed', async () => {
    // Ids repeat (value mod 4), so there are duplicates; event times with disorder, so some are late.
    const build = (s: DStream<KeyedEvent>) =>
      s.pipe(
        withWatermark((e: KeyedEvent) => e.time, 3),
        dropDuplicates((e: KeyedEvent) => [e.key, e.value % 4], { within: 8, name: 'dedup' }),
        map((e: KeyedEvent): unknown => e.id),
      );
    await fc.assert(exactlyOnceUnderCrash(fc, { build, records: keyedEvents(fc, { keys: 2, maxEvents: 14, maxDisorder: 10, lateFraction: 0.2 }), checkpointInterval: 2, extraBatches: 2 }), { numRuns: 15 });
  });
});
