import { describe, expect, it } from 'vitest';
import { foreachBatch, type DStream, type Pair } from 'sluice';
import { groupByKeyAndWindow } from 'sluice/windows';
import { runBatches } from 'sluice/testing';
import { runManually } from '../../core/run-manually.js';
import { sortBatches } from '../../core/sort-records.js';

type Pairs = DStream<Pair<string, number>>;

describe('groupByKeyAndWindow', () => {
  it('groups each key’s values over the window (Spark’s big test)', async () => {
    const input = [[['a', 1]], [['a', 1], ['b', 1]], [['a', 1], ['b', 1], ['c', 1]], [['a', 1], ['b', 1]], [['a', 1]], []] as Pair<string, number>[][];
    const out = await runBatches(input, (s: Pairs) => s.pipe(groupByKeyAndWindow(2000, 1000)));
    expect(sortBatches(out)).toEqual([
      [['a', [1]]],
      [
        ['a', [1, 1]],
        ['b', [1]],
      ],
      [
        ['a', [1, 1]],
        ['b', [1, 1]],
        ['c', [1]],
      ],
      [
        ['a', [1, 1]],
        ['b', [1, 1]],
        ['c', [1]],
      ],
      [
        ['a', [1, 1]],
        ['b', [1]],
      ],
      [['a', [1]]],
    ]);
  });

  it('keeps arrival order: by batch, then within the batch, keys first seen first', async () => {
    const input = [[['k', 1], ['j', 2], ['k', 3]], [['j', 4], ['k', 5]], [['k', 6]]] as Pair<string, number>[][];
    const out = await runBatches(input, (s: Pairs) => s.pipe(groupByKeyAndWindow('3s', '3s')), { numPartitions: 1 });
    expect(out).toEqual([
      [
        ['k', [1, 3, 5, 6]],
        ['j', [2, 4]],
      ],
    ]);
  });

  it('gives each window its own arrays: changing one does not change the next window', async () => {
    const seen: Pair<string, number[]>[][] = [];
    await runManually([[['a', 1]], [['a', 2]], [['a', 3]]] as Pair<string, number>[][], (s: Pairs) =>
      s.pipe(
        groupByKeyAndWindow(2000),
        foreachBatch((records) => {
          seen.push(records.map(([k, v]) => [k, [...v]]));
          for (const [, values] of records) values.push(99);
        }),
      ),
    );
    expect(seen).toEqual([[['a', [1]]], [['a', [1, 2]]], [['a', [2, 3]]]]);
  });
});
