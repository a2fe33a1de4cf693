import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { batchCuts, batched, crashPoints, CRASH_STEPS, cutIntoBatches, keyedEvents, type KeyedEvent } from '../kit/generators.js';

const PARAMS = { numRuns: 50 } as const;

/** The events that are not duplicates of the one before, with the largest time before each. */
function originals(events: readonly KeyedEvent[]): { event: KeyedEvent; maxBefore: number }[] {
  let max = Number.NEGATIVE_INFINITY;
  const out = [];
  for (const [i, event] of events.entries()) {
    if (i > 0 && events[i - 1]?.id === event.id) continue;
    out.push({ event, maxBefore: max });
    max = Math.max(max, event.time);
  }
  return out;
}

describe('keyedEvents', () => {
  it('without late events, every time is at least the largest earlier time minus maxDisorder', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 30 }), fc.integer({ min: 1, max: 5 }), (maxDisorder, keys) => {
        fc.assert(
          fc.property(keyedEvents(fc, { keys, maxDisorder, duplicateFraction: 0.3 }), (events) => {
            for (const { event, maxBefore } of originals(events)) expect(event.time).toBeGreaterThanOrEqual(maxBefore - maxDisorder);
            expect(events.every((e) => /^k\d+$/.test(e.key) && Number(e.key.slice(1)) < keys)).toBe(true);
          }),
          { numRuns: 10 },
        );
      }),
      { numRuns: 20 },
    );
  });

  it('numbers events from 0 in arrival order; a duplicate is a copy right after its original', () => {
    fc.assert(
      fc.property(keyedEvents(fc, { keys: 3, duplicateFraction: 0.5, lateFraction: 0.3, maxDisorder: 5 }), (events) => {
        const ids = events.map((e) => e.id);
        expect([...new Set(ids)]).toEqual(Array.from({ length: new Set(ids).size }, (_, i) => i));
        for (const [i, e] of events.entries()) if (i > 0 && events[i - 1]?.id === e.id) expect(e).toEqual(events[i - 1]);
      }),
      PARAMS,
    );
  });

  it('late events lie beyond the disorder bound, and no time is below startTime', () => {
    const stats = { late: 0, duplicates: 0, events: 0 };
    fc.assert(
      fc.property(keyedEvents(fc, { keys: 2, maxDisorder: 10, lateFraction: 0.3, duplicateFraction: 0.2, startTime: 100 }), (events) => {
        for (const { event, maxBefore } of originals(events)) if (event.time < maxBefore - 10) stats.late++;
        // A late event is at least maxDisorder + 1 and at most maxDisorder + lateBy (50) behind.
        for (const { event, maxBefore } of originals(events)) if (event.time < maxBefore - 10) expect(event.time).toBeGreaterThanOrEqual(maxBefore - 60);
        stats.duplicates += events.length - new Set(events.map((e) => e.id)).size;
        stats.events += events.length;
        expect(events.every((e) => e.time >= 100)).toBe(true);
      }),
      { ...PARAMS, seed: 42 },
    );
    expect(stats.late).toBeGreaterThan(stats.events * 0.05);
    expect(stats.duplicates).toBeGreaterThan(stats.events * 0.05);
  });

  it('skew makes k0 the hot key', () => {
    const counts = new Map<string, number>();
    fc.assert(
      fc.property(keyedEvents(fc, { keys: 4, skew: 2, maxEvents: 50 }), (events) => {
        for (const e of events) counts.set(e.key, (counts.get(e.key) ?? 0) + 1);
      }),
      { ...PARAMS, seed: 7 },
    );
    expect(counts.get('k0') ?? 0).toBeGreaterThan(4 * (counts.get('k3') ?? 0));
  });

  it('rejects options out of range with a RangeError', () => {
    expect(() => keyedEvents(fc, { keys: 0 })).toThrow(RangeError);
    expect(() => keyedEvents(fc, { keys: 2, lateFraction: 2 })).toThrow(RangeError);
    expect(() => keyedEvents(fc, { keys: 2, skew: -1 })).toThrow(RangeError);
  });
});

describe('cutting into batches', () => {
  it('the batches of any cuts concatenate to the records', () => {
    fc.assert(
      fc.property(fc.array(fc.integer()).chain((records) => fc.tuple(fc.constant(records), batchCuts(fc, records, { maxBatches: 5 }))), ([records, cuts]) => {
        const batches = cutIntoBatches(records, cuts);
        expect(batches.length).toBe(cuts.length + 1);
        expect(batches.length).toBeLessThanOrEqual(5);
        expect(batches.flat()).toEqual(records);
      }),
      PARAMS,
    );
  });

  it('cuts make empty batches where they repeat or sit at an end', () => {
    expect(cutIntoBatches(['a', 'b', 'c'], [0, 1, 1, 3])).toEqual([[], ['a'], [], ['b', 'c'], []]);
  });

  it('batched gives the batches of some cutting of each generated list', () => {
    fc.assert(
      fc.property(batched(fc, fc.array(fc.nat(), { maxLength: 3 }).map((l) => l.map((_, i) => i))), (batches) => {
        expect(batches.flat()).toEqual(batches.flat().map((_, i) => i));
      }),
      PARAMS,
    );
  });
});

describe('crashPoints', () => {
  it('crash in one of the batches, at every step', () => {
    const steps = new Set<string>();
    fc.assert(
      fc.property(crashPoints(fc, { batches: 3 }), (crash) => {
        expect(crash.batch).toBeGreaterThanOrEqual(0);
        expect(crash.batch).toBeLessThan(3);
        steps.add(crash.step);
      }),
      { numRuns: 100, seed: 1 },
    );
    expect([...steps].sort()).toEqual([...CRASH_STEPS].sort());
  });
});
