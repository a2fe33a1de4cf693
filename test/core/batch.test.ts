import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Batch } from 'sluice';

const recordsArb = fc.array(fc.integer({ min: -100, max: 100 }), { maxLength: 60 });
const numPartitionsArb = fc.integer({ min: 1, max: 8 });
const sizes = <T>(batch: Batch<T>): number[] => batch.partitions.map((p) => p.length);

describe('Batch.of', () => {
  it('cuts the records into numPartitions contiguous slices whose sizes differ by at most 1, in order', () => {
    fc.assert(
      fc.property(recordsArb, numPartitionsArb, (records, n) => {
        const batch = Batch.of(records, n);
        expect(batch.numPartitions).toBe(n);
        expect(batch.toArray()).toEqual(records);
        expect(batch.partitions.flat()).toEqual(records);
        expect(batch.size).toBe(records.length);
        const s = sizes(batch);
        expect(Math.max(...s) - Math.min(...s)).toBeLessThanOrEqual(1);
        // Near-equal and contiguous: the larger slices come first.
        expect([...s].sort((a, b) => b - a)).toEqual(s);
      }),
    );
  });

  it('takes any iterable', () => {
    fc.assert(
      fc.property(recordsArb, numPartitionsArb, (records, n) => {
        function* gen(): Generator<number> {
          yield* records;
        }
        expect(Batch.of(gen(), n).toArray()).toEqual(records);
        expect(Batch.of(new Set(records), n).toArray()).toEqual([...new Set(records)]);
      }),
    );
  });

  it('cuts 7 records into 3 partitions as [3, 2, 2]', () => {
    expect(Batch.of([1, 2, 3, 4, 5, 6, 7], 3).partitions).toEqual([[1, 2, 3], [4, 5], [6, 7]]);
  });

  it('gives empty partitions when there are fewer records than partitions', () => {
    expect(Batch.of(['a'], 3).partitions).toEqual([['a'], [], []]);
    expect(Batch.of([], 2).partitions).toEqual([[], []]);
  });

  it('uses one partition by default, and floors a fractional or non-positive count', () => {
    expect(Batch.of([1, 2, 3]).numPartitions).toBe(1);
    expect(Batch.of([1, 2, 3], 2.9).partitions).toEqual([[1, 2], [3]]);
    expect(Batch.of([1, 2, 3], 0).partitions).toEqual([[1, 2, 3]]);
    expect(Batch.of([1, 2, 3], -2).partitions).toEqual([[1, 2, 3]]);
  });

  it('keeps every record when numPartitions is NaN', () => {
    expect(Batch.of([1, 2, 3], Number.NaN).toArray()).toEqual([1, 2, 3]);
  });

  it('does not hang when numPartitions is Infinity', () => {
    expect(() => Batch.of([1, 2, 3], Number.POSITIVE_INFINITY)).toThrow(RangeError);
  });
});

describe('Batch.empty', () => {
  it.each([1, 2, 5])('has %i empty partitions and no records', (n) => {
    const batch = Batch.empty<number>(n);
    expect(batch.numPartitions).toBe(n);
    expect(batch.size).toBe(0);
    expect(batch.toArray()).toEqual([]);
    expect(batch.partitions.every((p) => p.length === 0)).toBe(true);
  });

  it('has one partition by default and for a count below 1', () => {
    expect(Batch.empty().numPartitions).toBe(1);
    expect(Batch.empty(0).numPartitions).toBe(1);
    expect(Batch.empty(-3).numPartitions).toBe(1);
  });

  it('has at least one partition when numPartitions is NaN', () => {
    expect(Batch.empty(Number.NaN).numPartitions).toBe(1);
  });
});

describe('Batch.map, filter and flatMap', () => {
  const partitionsArb = fc.array(fc.array(fc.integer({ min: -100, max: 100 }), { maxLength: 10 }), { minLength: 1, maxLength: 6 });

  it('map applies the function partition by partition, keeping the partitioning', () => {
    fc.assert(
      fc.property(partitionsArb, fc.integer({ min: -3, max: 3 }), (partitions, a) => {
        const f = (x: number): string => `${x * a}`;
        const out = new Batch(partitions).map(f);
        expect(out.partitions).toEqual(partitions.map((p) => p.map(f)));
      }),
    );
  });

  it('filter keeps the matching records partition by partition, keeping the partitioning', () => {
    fc.assert(
      fc.property(partitionsArb, fc.integer({ min: 1, max: 4 }), (partitions, m) => {
        const keep = (x: number): boolean => x % m === 0;
        const out = new Batch(partitions).filter(keep);
        expect(out.partitions).toEqual(partitions.map((p) => p.filter(keep)));
      }),
    );
  });

  it('flatMap replaces each record with its outputs partition by partition, keeping the partitioning', () => {
    fc.assert(
      fc.property(partitionsArb, fc.integer({ min: 0, max: 3 }), (partitions, k) => {
        const f = (x: number): number[] => Array.from({ length: (Math.abs(x) + k) % 3 }, (_, i) => x + i);
        const out = new Batch(partitions).flatMap(f);
        expect(out.partitions).toEqual(partitions.map((p) => p.flatMap(f)));
        // Any iterable is accepted, not only arrays.
        expect(new Batch(partitions).flatMap((x) => new Set(f(x))).partitions).toEqual(partitions.map((p) => p.flatMap((x) => [...new Set(f(x))])));
      }),
    );
  });

  it('leave the original batch unchanged', () => {
    const batch = Batch.of([1, 2, 3, 4], 2);
    batch.map((x) => x * 10);
    batch.filter((x) => x > 2);
    batch.flatMap((x) => [x, x]);
    expect(batch.partitions).toEqual([[1, 2], [3, 4]]);
  });

  it('toArray returns a fresh array', () => {
    const batch = Batch.of([1, 2]);
    batch.toArray().push(3);
    expect(batch.toArray()).toEqual([1, 2]);
  });
});

describe('Batch eventTimes', () => {
  it('are one per record, in the shape of the partitions, or a RangeError', () => {
    const times = [Float64Array.of(10, 20), Float64Array.of(30)];
    expect(new Batch([[1, 2], [3]], times).eventTimes).toBe(times);
    expect(new Batch([[1, 2]]).eventTimes).toBeUndefined();
    expect(() => new Batch([[1, 2], [3]], [Float64Array.of(10, 20)])).toThrow(RangeError);
    expect(() => new Batch([[1, 2], [3]], [Float64Array.of(10), Float64Array.of(30)])).toThrow(RangeError);
  });
});
