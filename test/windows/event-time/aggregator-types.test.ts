import { describe, expect, expectTypeOf, it } from 'vitest';
import { foreachBatch, mapToPair, ManualClock, StreamingContext, type DStream, type Pair } from 'sluice';
import { agg, eventTimeWindow, tumbling, withWatermark, type Aggregator } from 'sluice/windows';

/*
 * Type-level tests: `npm run typecheck` fails when a `@ts-expect-error` line compiles (the
 * aggregator accepts what it cannot add), and the runtime part only checks the graphs build.
 */

interface Click {
  readonly page: string;
  readonly time: number;
  readonly ms: number;
}

function pairs<V>(pick: (c: Click) => V): DStream<Pair<string, V>> {
  const ctx = new StreamingContext({ batchInterval: 100, clock: new ManualClock() });
  return ctx.queueStream<Click>().pipe(
    withWatermark((c) => c.time, 0),
    mapToPair((c) => [c.page, pick(c)]),
  );
}

describe('the numeric aggregators, typed', () => {
  it('take numbers as they are, and anything else only through a function that picks a number', () => {
    expectTypeOf(agg.sum()).toEqualTypeOf<Aggregator<number, number, number>>();
    expectTypeOf(agg.sum((c: Click) => c.ms)).toEqualTypeOf<Aggregator<Click, number, number>>();
    expectTypeOf(agg.mean()).toEqualTypeOf<Aggregator<number, { sum: number; count: number }, number | null>>();

    const built = [
      pairs((c) => c.ms).pipe(eventTimeWindow(tumbling(10), agg.sum())),
      pairs((c) => c).pipe(eventTimeWindow(tumbling(10), agg.sum((c) => c.ms))),
      pairs((c) => c).pipe(eventTimeWindow(tumbling(10), agg.count())),
      // @ts-expect-error sum() adds the values themselves: strings are not numbers.
      pairs((c) => c.page).pipe(eventTimeWindow(tumbling(10), agg.sum())),
      // @ts-expect-error nor are values that are sometimes strings.
      pairs((c): number | string => c.ms).pipe(eventTimeWindow(tumbling(10), agg.sum())),
      // @ts-expect-error nor objects: pick the number with agg.sum((c) => c.ms).
      pairs((c) => c).pipe(eventTimeWindow(tumbling(10), agg.sum())),
      // @ts-expect-error the same for mean(), min() and max().
      pairs((c) => c).pipe(eventTimeWindow(tumbling(10), agg.mean())),
      // @ts-expect-error the same for mean(), min() and max().
      pairs((c) => c.page).pipe(eventTimeWindow(tumbling(10), agg.min())),
      // @ts-expect-error the same for mean(), min() and max().
      pairs((c) => c).pipe(eventTimeWindow(tumbling(10), agg.max())),
      // @ts-expect-error the function must return a number.
      pairs((c) => c).pipe(eventTimeWindow(tumbling(10), agg.sum((c) => c.page))),
    ];
    for (const stream of built as DStream<unknown>[]) stream.pipe(foreachBatch(() => undefined));
    expect(built).toHaveLength(10);
  });
});
