import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { filter, keyBy, type DStream, type Pair } from 'sluice';
import { agg, eventTimeWindow, session, sliding, tumbling, type Aggregator, type EventTimeWindowOptions, type WindowAssigner } from 'sluice/windows';
import { lateDataAccounting, watermarkMonotonicity, type Arrival, type WindowOperator } from '../kit/event-time-laws.js';
import { keyedEvents, type KeyedEvent } from '../kit/generators.js';
import { expectLawToFail } from './law-failure.js';

const PARAMS = { numRuns: 30 } as const;

describe('watermarkMonotonicity', () => {
  it('holds for withWatermark alone, with disordered, late and duplicated events', async () => {
    await fc.assert(watermarkMonotonicity(fc, { delay: 15 }), PARAMS);
  });

  it('holds for withWatermark followed by an event-time window, delay 0', async () => {
    const build = (s: DStream<KeyedEvent>) => s.pipe(keyBy((e: KeyedEvent) => e.key), eventTimeWindow(tumbling(10), agg.count()));
    await fc.assert(watermarkMonotonicity(fc, { delay: 0, build, events: keyedEvents(fc, { keys: 2, maxDisorder: 30, lateFraction: 0.3 }) }), PARAMS);
  });
});

describe('lateDataAccounting', () => {
  const assigners: [string, WindowAssigner][] = [
    ['tumbling(10)', tumbling(10)],
    ['sliding(20, 5)', sliding(20, 5)],
    ['session(8)', session(8)],
  ];
  for (const [name, assigner] of assigners) {
    it(`holds for eventTimeWindow with ${name}, dropping late records or side-outputting them`, async () => {
      await fc.assert(lateDataAccounting(fc, { assigner, delay: 10 }), PARAMS);
    });
  }

  it('holds with allowed lateness and three partitions', async () => {
    await fc.assert(lateDataAccounting(fc, { assigner: sliding(12, 4), delay: 5, allowedLateness: 7, numPartitions: 3 }), PARAMS);
  });

  it('catches a window operator that loses records silently', async () => {
    // Drops odd values before windowing: they are in no result and not counted as late.
    const lossy: WindowOperator =
      <V,>(assigner: WindowAssigner, aggregator: Aggregator<V, V[], V[]>, options: EventTimeWindowOptions<V>) =>
      (stream: DStream<Pair<string, V>>) =>
        stream.pipe(
          filter(([, a]: Pair<string, V>) => (a as Arrival<number>).event.value % 2 === 0),
          eventTimeWindow(assigner, aggregator, options),
        );
    const failure = await expectLawToFail(lateDataAccounting(fc, { assigner: tumbling(10), operator: lossy }), PARAMS);
    expect(failure.cause).toContain('late-data accounting');
  });
});
