import fc from 'fast-check';
import { describe, it } from 'vitest';
import { filter, keyBy, type DStream, type Pair } from 'sluice';
import { intervalJoin, tumbling, windowJoin, withWatermark, type JoinType } from 'sluice/windows';
import { exactlyOnceUnderCrash, keyedEvents, type KeyedEvent } from 'sluice/testing';

/*
 * Exactly-once for the interval join under a crash at any step (the kit's crash law: faults in the
 * checkpoint's write path, a throwing map or output, restarts on the same LevelDB checkpoint):
 * its rows by batch id and its committed state equal those of a job that never crashed. Events
 * with an even value are the left side, odd ones the right side.
 */
const events = keyedEvents(fc, { keys: 3, maxEvents: 14, maxDisorder: 10, lateFraction: 0.15 });

const sides = (s: DStream<KeyedEvent>) => {
  const side = (parity: number, delay: number) => s.pipe(filter((e: KeyedEvent) => Math.abs(e.value % 2) === parity), withWatermark((e: KeyedEvent) => e.time, delay), keyBy((e: KeyedEvent) => e.key));
  return [side(0, 3), side(1, 5)] as const;
};
const joined = (type: JoinType) => (s: DStream<KeyedEvent>) => {
  const [left, right] = sides(s);
  return left.pipe(intervalJoin(right, { lowerBound: -4, upperBound: 6 }, { type, name: 'pairs' })) as DStream<Pair<string, unknown>>;
};

describe('event-time joins under crashes', () => {
  for (const type of ['fullOuter', 'leftSemi'] as const) {
    it(`${type}: rows by batch id and committed state equal a run that never crashed`, async () => {
      await fc.assert(exactlyOnceUnderCrash(fc, { build: joined(type), records: events, extraBatches: 3 }), { numRuns: 12 });
    });
  }

  it('inner, with checkpointInterval 3 (replay of several batches from the logged plans)', async () => {
    await fc.assert(exactlyOnceUnderCrash(fc, { build: joined('inner'), records: events, extraBatches: 3, checkpointInterval: 3 }), { numRuns: 12 });
  });

  it('windowJoin (fullOuter, tumbling windows)', async () => {
    const build = (s: DStream<KeyedEvent>) => {
      const [left, right] = sides(s);
      return left.pipe(windowJoin(right, tumbling(8), { type: 'fullOuter', name: 'windowed' })) as DStream<unknown>;
    };
    await fc.assert(exactlyOnceUnderCrash(fc, { build, records: events, extraBatches: 3 }), { numRuns: 12 });
  });
});
