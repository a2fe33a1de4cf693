import { describe, expect, it } from 'vitest';
import { foreachBatch, glom, map, mapPartitions, transform } from 'sluice';
import { runBatches } from 'sluice/testing';
import { expectUserFunctionFailed, rejectionOf, runManually } from '../run-manually.js';

describe('mapPartitions', () => {
  it('calls the function once per partition with its records and index', async () => {
    const calls: [number, number[]][] = [];
    const out = await runBatches(
      [[1, 2, 3], [4]],
      (s) =>
        s.pipe(
          mapPartitions((records: readonly number[], index) => {
            calls.push([index, [...records]]);
            return records.map((r) => `${index}:${r}`);
          }),
        ),
      { numPartitions: 2 },
    );
    expect(out).toEqual([['0:1', '0:2', '1:3'], ['0:4']]);
    expect(calls).toEqual([
      [0, [1, 2]],
      [1, [3]],
      [0, [4]],
      [1, []],
    ]);
  });

  it('replaces each partition with what the function returns: partition count kept, sizes may change', async () => {
    const out = await runBatches([[1, 2, 3, 4, 5]], (s) => s.pipe(mapPartitions((records: readonly number[]) => [records.length]), glom()), { numPartitions: 3 });
    expect(out).toEqual([[[2], [2], [1]]]);
  });

  it('calls the function for empty partitions too (as Spark does), so an empty batch can yield records', async () => {
    const out = await runBatches([[], []], (s) => s.pipe(mapPartitions((records: readonly number[], i) => [`${i}:${records.length}`])));
    expect(out).toEqual([
      ['0:0', '1:0'],
      ['0:0', '1:0'],
    ]);
  });

  it('gives an empty batch for an empty batch when the function maps records one to one', async () => {
    expect(await runBatches([[], [1]], (s) => s.pipe(mapPartitions((records: readonly number[]) => records.map((r) => r * 2))))).toEqual([[], [2]]);
  });

  it('accepts a lazy iterable as a partition result', async () => {
    const out = await runBatches([[1, 2, 3]], (s) =>
      s.pipe(
        mapPartitions(function* (records: readonly number[]) {
          let sum = 0;
          for (const r of records) yield (sum += r);
        }),
      ),
    );
    expect(out).toEqual([[1, 3, 3]]);
  });

  it('fails the batch with USER_FUNCTION_FAILED naming mapPartitions#id, also when a returned generator throws', async () => {
    const boom = new Error('partition');
    const eager = await rejectionOf(
      runBatches([[1], [2]], (s) =>
        s.pipe(
          mapPartitions((records: readonly number[]) => {
            if (records.includes(2)) throw boom;
            return records;
          }),
        ),
      ),
    );
    expectUserFunctionFailed(eager, { operator: /^mapPartitions#\d+$/, batchId: 1, cause: boom });
    const lazy = await rejectionOf(
      runBatches([[1]], (s) =>
        s.pipe(
          mapPartitions(function* (records: readonly number[]) {
            yield* records;
            throw boom;
          }),
        ),
      ),
    );
    expectUserFunctionFailed(lazy, { operator: /^mapPartitions#\d+$/, batchId: 0, cause: boom });
  });
});

describe('glom', () => {
  it('turns every partition into one record: the array of its records, in order', async () => {
    const out = await runBatches([[1, 2, 3], [4, 5]], (s) => s.pipe(glom()), { numPartitions: 2 });
    expect(out).toEqual([
      [
        [1, 2],
        [3],
      ],
      [[4], [5]],
    ]);
  });

  it('gives one empty array per partition for an empty batch (as Spark does)', async () => {
    expect(await runBatches([[]], (s) => s.pipe(glom()), { numPartitions: 3 })).toEqual([[[], [], []]]);
  });

  it('keeps the partition count: one record in each partition', async () => {
    const out = await runBatches([[1, 2, 3]], (s) => s.pipe(glom(), transform((batch) => batch.partitions.map((p) => p.length))), { numPartitions: 3 });
    expect(out).toEqual([[1, 1, 1]]);
  });

  it('gives arrays that are copies: changing one downstream leaves the input batch intact', async () => {
    const seen: number[][] = [];
    const run = await runManually(
      [[1, 2]],
      (s) => {
        s.pipe(
          glom(),
          map((records: number[]) => {
            records.push(0);
            return records;
          }),
          foreachBatch(() => undefined),
        );
        s.pipe(foreachBatch((records) => void seen.push([...records])));
      },
      { numPartitions: 1 },
    );
    expect(run.error).toBeUndefined();
    expect(seen).toEqual([[1, 2]]);
  });
});
