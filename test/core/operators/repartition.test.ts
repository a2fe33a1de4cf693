import { describe, expect, it } from 'vitest';
import { glom, repartition, transform } from 'sluice';
import { runBatches } from 'sluice/testing';
import { sortRecords } from '../sort-records.js';

describe('repartition', () => {
  it('gives every batch exactly n partitions', async () => {
    for (const n of [1, 2, 5]) {
      const out = await runBatches([[1, 2, 3, 4, 5, 6, 7], [], [8]], (s) => s.pipe(repartition(n), transform((batch) => [batch.numPartitions])), { numPartitions: 3 });
      expect(out).toEqual([[n], [n], [n]]);
    }
  });

  it('keeps every record exactly once (the same multiset)', async () => {
    const input = [[5, 3, 5, 1, 9, 2, 2], [7]];
    const out = await runBatches(input, (s) => s.pipe(repartition(4)), { numPartitions: 3 });
    expect(out.map((batch) => sortRecords(batch))).toEqual(input.map((batch) => sortRecords(batch)));
  });

  it('deals records round-robin, input partition p starting at output partition p mod n (deterministic)', async () => {
    const out = await runBatches([[1, 2, 3, 4, 5]], (s) => s.pipe(repartition(2), glom()), { numPartitions: 2 });
    // input partitions [1, 2, 3] and [4, 5]
    expect(out).toEqual([[[1, 3, 5], [2, 4]]]);
  });

  it('spreads a skewed batch evenly', async () => {
    const out = await runBatches([[1, 2, 3, 4, 5, 6]], (s) => s.pipe(repartition(3), transform((batch) => batch.partitions.map((p) => p.length))), { numPartitions: 1 });
    expect(out).toEqual([[2, 2, 2]]);
  });

  it('gives n empty partitions for an empty batch', async () => {
    expect(await runBatches([[]], (s) => s.pipe(repartition(3), glom()))).toEqual([[[], [], []]]);
    expect(await runBatches([[], []], (s) => s.pipe(repartition(3)))).toEqual([[], []]);
  });

  it('throws a RangeError at construction when n is not a positive integer', () => {
    for (const n of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => repartition(n)).toThrow(RangeError);
    }
    expect(() => repartition(0)).toThrow(/numPartitions must be a positive integer/);
  });
});
