import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { map, type DStream, type Pair } from 'sluice';
import { countByValueAndWindow, countByWindow, reduceByKeyAndWindow, window } from 'sluice/windows';
import { incrementalEqualsRecomputed, runBatches } from 'sluice/testing';
import { sortBatches, sortRecords } from '../../core/sort-records.js';

type Event = Pair<string, number>;
const sum = (a: number, b: number): number => a + b;
const minus = (a: number, b: number): number => a - b;

/** A run: input batches (records per batch random), window geometry in batches, partitions. */
interface Case {
  readonly input: Event[][];
  readonly extraBatches: number;
  readonly lengthBatches: number;
  readonly slideBatches: number;
  readonly interval: number;
  readonly numPartitions: number;
}

const event = fc.tuple(fc.constantFrom('a', 'b', 'c', 'd', 'e'), fc.integer({ min: 1, max: 9 })) as fc.Arbitrary<Event>;
const cases: fc.Arbitrary<Case> = fc.record({
  input: fc.array(fc.array(event, { maxLength: 5 }), { minLength: 1, maxLength: 10 }),
  extraBatches: fc.integer({ min: 0, max: 5 }),
  lengthBatches: fc.integer({ min: 1, max: 5 }),
  slideBatches: fc.integer({ min: 1, max: 4 }),
  interval: fc.constantFrom(500, 1000),
  numPartitions: fc.integer({ min: 1, max: 3 }),
});

/**
 * The reference model: at every slide (batch index b with b + 1 a multiple of the slide), the raw
 * records of the batches in the window, i.e. indices b - length + 1 .. b.
 */
function windowsOf<T>(input: readonly (readonly T[])[], c: Case): T[][] {
  return slideIndices(c).map((b) => input.slice(Math.max(0, b - c.lengthBatches + 1), b + 1).flat());
}

/** The indices of the batches at which a window is produced. */
function slideIndices(c: Case): number[] {
  const out: number[] = [];
  for (let b = 0; b < c.input.length + c.extraBatches; b++) if ((b + 1) % c.slideBatches === 0) out.push(b);
  return out;
}

function sumByKey(records: readonly Event[]): Event[] {
  const sums = new Map<string, number>();
  for (const [key, value] of records) sums.set(key, (sums.get(key) ?? 0) + value);
  return sortRecords([...sums]);
}

function run<U>(c: Case, build: (s: DStream<Event>) => DStream<U>): Promise<U[][]> {
  return runBatches(c.input, build, { batchInterval: c.interval, numBatches: c.input.length + c.extraBatches, numPartitions: c.numPartitions });
}

const length = (c: Case): number => c.lengthBatches * c.interval;
const slide = (c: Case): number => c.slideBatches * c.interval;

describe('batch-time windows (properties)', () => {
  it('reduceByKeyAndWindow: incremental (with inverse) = full recomputation = the sums over the window’s raw records, zeros aside', async () => {
    await fc.assert(
      fc.asyncProperty(cases, async (c) => {
        const expected = windowsOf(c.input, c).map(sumByKey);
        const full = await run(c, (s) => s.pipe(reduceByKeyAndWindow(sum, undefined, length(c), slide(c))));
        const filtered = await run(c, (s) => s.pipe(reduceByKeyAndWindow(sum, minus, length(c), slide(c), { filter: ([, n]) => n !== 0 })));
        const unfiltered = await run(c, (s) => s.pipe(reduceByKeyAndWindow(sum, minus, length(c), slide(c))));
        expect(sortBatches(full)).toEqual(expected);
        expect(sortBatches(filtered)).toEqual(expected);
        expect(sortBatches(unfiltered.map((batch) => batch.filter(([, n]) => n !== 0)))).toEqual(expected);
      }),
    );
  });

  /** Window geometries (length, slide, batch interval in ms) for the kit's law, which takes a fixed geometry. */
  const geometries: readonly (readonly [number, number, number])[] = [
    [1000, 1000, 1000],
    [3000, 1000, 1000],
    [3000, 3000, 1000],
    [4000, 2000, 1000],
    [2500, 1000, 500],
  ];

  it.each(geometries)("the kit's incrementalEqualsRecomputed holds for reduceByKeyAndWindow(sum, minus) (length %i, slide %i, interval %i), with and without a filter", async (windowLength, windowSlide, batchInterval) => {
    const geometry = { length: windowLength, slide: windowSlide, batchInterval, keys: 5, maxBatches: 10 } as const;
    await fc.assert(incrementalEqualsRecomputed(fc, { reduce: sum, inverse: minus, values: fc.integer({ min: -9, max: 9 }), zero: 0, ...geometry }), { numRuns: 40 });
    // The filter drops a key from the incremental state when its sum is 0, so (as in Spark) it is only
    // sound when a 0 means "every value left the window": positive values, as in the model law above.
    await fc.assert(incrementalEqualsRecomputed(fc, { reduce: sum, inverse: minus, values: fc.integer({ min: 1, max: 9 }), filter: ([, n]) => n !== 0, ...geometry }), { numRuns: 40 });
  });

  it('window holds exactly the window’s records, in arrival order', async () => {
    await fc.assert(
      fc.asyncProperty(cases, async (c) => {
        expect(await run(c, (s) => s.pipe(window(length(c), slide(c))))).toEqual(windowsOf(c.input, c));
      }),
    );
  });

  it('countByValueAndWindow counts the window’s records; countByWindow counts them once a record has been seen', async () => {
    await fc.assert(
      fc.asyncProperty(cases, async (c) => {
        const keys = c.input.map((batch) => batch.map(([key]) => key));
        const counts = windowsOf(keys, c).map((records) => sumByKey(records.map((k): Event => [k, 1])));
        expect(sortBatches(await run(c, (s) => s.pipe(map(([key]: Event) => key), countByValueAndWindow(length(c), slide(c)))))).toEqual(counts);
        // Spark's countByWindow: nothing before the first record, then one count per window (0 included).
        const firstRecord = c.input.findIndex((batch) => batch.length > 0);
        const windows = windowsOf(c.input, c);
        const expected = slideIndices(c).map((b, w) => (firstRecord === -1 || firstRecord > b ? [] : [windows[w]?.length ?? 0]));
        expect(await run(c, (s) => s.pipe(countByWindow(length(c), slide(c))))).toEqual(expected);
      }),
    );
  });
});
