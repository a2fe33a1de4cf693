import { describe, expect, it } from 'vitest';
import { countByValue, filter, flatMap, map, mapToPair, reduceByKey } from 'sluice';
import { runBatches } from 'sluice/testing';

describe('smoke', () => {
  it('counts words per batch', async () => {
    const out = await runBatches([['a b', 'b'], [], ['c']], (s) =>
      s.pipe(flatMap((l: string) => l.split(' ')), filter((w) => w !== ''), map((w) => w.toUpperCase()), mapToPair((w) => [w, 1]), reduceByKey((a, b) => a + b)),
    );
    expect(out).toEqual([[['A', 1], ['B', 2]], [], [['C', 1]]]);
  });
  it('countByValue', async () => {
    expect(await runBatches([['a', 'b', 'a']], (s) => s.pipe(countByValue()), { numPartitions: 1 })).toEqual([[['a', 2], ['b', 1]]]);
  });
});
