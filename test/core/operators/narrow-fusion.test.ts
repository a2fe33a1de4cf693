import { describe, expect, it } from 'vitest';
import { filter, flatMap, foreachBatch, glom, map, mapToPair, mapValues, reduceByKey, transform, union, type Batch, type DStream, type Pair } from 'sluice';
import { runBatches } from 'sluice/testing';
import { expectUserFunctionFailed, rejectionOf, runManually } from '../run-manually.js';
import { sortRecords } from '../sort-records.js';

const input = [['a b', 'c', '', 'dd e'], [], ['f g h', 'a']];

const parse = (line: string): string => line.trim();
const nonEmpty = (line: string): boolean => line !== '';
const words = (line: string): string[] => line.split(' ');
const toPair = (word: string): Pair<string, string> => [word, word];
const length = (word: string): number => word.length;

/** The same chain computed with plain arrays, one step after the other. */
function stepByStep(batch: readonly string[]): Pair<string, number>[] {
  return batch
    .map(parse)
    .filter(nonEmpty)
    .flatMap(words)
    .map(toPair)
    .map(([k, v]): Pair<string, number> => [k, length(v)]);
}

/** Breaks fusion: a batch-level identity between two narrow operators. */
const barrier = <T>() => transform((batch: Batch<T>) => batch);

describe('narrow fusion', () => {
  it('a fused map → filter → flatMap → map → mapValues chain gives the step-by-step result', async () => {
    const fused = await runBatches(input, (s: DStream<string>) => s.pipe(map(parse), filter(nonEmpty), flatMap(words), map(toPair), mapValues(length)));
    expect(fused).toEqual(input.map(stepByStep));
  });

  it('gives the same batches, partition by partition, as the chain with fusion broken between every step', async () => {
    const fused = await runBatches(input, (s: DStream<string>) => s.pipe(map(parse), filter(nonEmpty), flatMap(words), map(toPair), mapValues(length), glom()), { numPartitions: 3 });
    const unfused = await runBatches(
      input,
      (s: DStream<string>) =>
        s
          .pipe(map(parse), barrier<string>(), filter(nonEmpty), barrier<string>(), flatMap(words), barrier<string>())
          .pipe(map(toPair), barrier<Pair<string, string>>(), mapValues(length), glom()),
      { numPartitions: 3 },
    );
    expect(fused).toEqual(unfused);
  });

  it('runs a fused chain record by record in one pass (no intermediate batch per step)', async () => {
    const log: string[] = [];
    await runBatches(
      [[1, 2]],
      (s: DStream<number>) =>
        s.pipe(
          map((x: number) => {
            log.push(`map ${x}`);
            return x;
          }),
          filter((x: number) => {
            log.push(`filter ${x}`);
            return true;
          }),
        ),
      { numPartitions: 1 },
    );
    expect(log).toEqual(['map 1', 'filter 1', 'map 2', 'filter 2']);
  });

  it('computes a shared intermediate stream once per batch for two outputs, and both see correct data', async () => {
    let calls = 0;
    const doubled: number[][] = [];
    const odd: number[][] = [];
    const run = await runManually([[1, 2, 3], [], [4]], (s: DStream<number>) => {
      const shared = s.pipe(
        map((x: number) => {
          calls++;
          return x * 2;
        }),
      );
      shared.pipe(foreachBatch((records) => void doubled.push([...records])));
      shared.pipe(
        map((x: number) => x + 1),
        foreachBatch((records) => void odd.push([...records])),
      );
    });
    expect(run.error).toBeUndefined();
    expect(calls).toBe(4);
    expect(doubled).toEqual([[2, 4, 6], [], [8]]);
    expect(odd).toEqual([[3, 5, 7], [], [9]]);
  });

  it('computes a shared narrow chain once when two narrow branches each fuse below it', async () => {
    let parsed = 0;
    const upper: string[][] = [];
    const lengths: number[][] = [];
    const run = await runManually([['a ', ' bb'], ['ccc']], (s: DStream<string>) => {
      const shared = s.pipe(
        map((line: string) => {
          parsed++;
          return line.trim();
        }),
        filter(nonEmpty),
      );
      shared.pipe(
        map((w: string) => w.toUpperCase()),
        filter(() => true),
        foreachBatch((records) => void upper.push([...records])),
      );
      shared.pipe(
        map((w: string) => w.length),
        foreachBatch((records) => void lengths.push([...records])),
      );
    });
    expect(run.error).toBeUndefined();
    expect(parsed).toBe(3);
    expect(upper).toEqual([['A', 'BB'], ['CCC']]);
    expect(lengths).toEqual([[1, 2], [3]]);
  });

  it('computes a shared intermediate once when a narrow and a keyed operator both read it', async () => {
    let calls = 0;
    const words: string[][] = [];
    const counts: Pair<string, number>[][] = [];
    const run = await runManually([['x', 'y', 'x']], (s: DStream<string>) => {
      const shared = s.pipe(
        map((w: string) => {
          calls++;
          return w;
        }),
      );
      shared.pipe(
        filter((w: string) => w === 'x'),
        foreachBatch((records) => void words.push([...records])),
      );
      shared.pipe(
        mapToPair((w: string) => [w, 1]),
        reduceByKey((a: number, b: number) => a + b),
        foreachBatch((records) => void counts.push([...records])),
      );
    });
    expect(run.error).toBeUndefined();
    expect(calls).toBe(3);
    expect(words).toEqual([['x', 'x']]);
    expect(counts.map((batch) => sortRecords(batch))).toEqual([
      [
        ['x', 2],
        ['y', 1],
      ],
    ]);
  });

  it('computes a stream united with a map of itself once per batch', async () => {
    let calls = 0;
    const out = await runBatches([[1, 2]], (s: DStream<number>) => {
      const shared = s.pipe(
        map((x: number) => {
          calls++;
          return x;
        }),
      );
      return shared.pipe(union(shared.pipe(map((x: number) => x * 10))));
    });
    expect(sortRecords(out[0] ?? [])).toEqual([1, 10, 2, 20].sort());
    expect(calls).toBe(2);
  });

  it('keeps the partitioning through a fused chain', async () => {
    const out = await runBatches([[1, 2, 3, 4]], (s: DStream<number>) => s.pipe(map((x: number) => x), filter((x: number) => x !== 2), glom()), { numPartitions: 2 });
    expect(out).toEqual([[[1], [3, 4]]]);
  });

  it('names the failing stage inside a fused chain, not the chain’s last operator', async () => {
    const boom = new Error('middle');
    let filtered: DStream<number> | undefined;
    const error = await rejectionOf(
      runBatches([[1], [2]], (s: DStream<number>) => {
        filtered = s.pipe(
          map((x: number) => x),
          filter((x: number) => {
            if (x === 2) throw boom;
            return true;
          }),
        );
        return filtered.pipe(map((x: number) => x));
      }),
    );
    expect(filtered?.describe).toMatch(/^filter#\d+$/);
    expectUserFunctionFailed(error, { operator: filtered?.describe ?? '', batchId: 1, cause: boom });
  });

  it('names a stage after a lazy flatMap when that stage throws, and closes the generator', async () => {
    const boom = new Error('downstream');
    let closed = false;
    const error = await rejectionOf(
      runBatches([[1]], (s: DStream<number>) =>
        s.pipe(
          flatMap(function* (x: number) {
            try {
              yield x;
              yield x + 1;
            } finally {
              closed = true;
            }
          }),
          map((): number => {
            throw boom;
          }),
        ),
      ),
    );
    expectUserFunctionFailed(error, { operator: /^map#\d+$/, batchId: 0, cause: boom });
    expect(closed).toBe(true);
  });
});
