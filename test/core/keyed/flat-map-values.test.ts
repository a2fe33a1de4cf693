import { describe, expect, it } from 'vitest';
import { flatMapValues, foreachBatch, glom, reduceByKey, type DStream, type Pair } from 'sluice';
import { runBatches } from 'sluice/testing';
import { expectUserFunctionFailed, rejectionOf, runManually } from '../run-manually.js';
import { sortBatches } from '../sort-records.js';

type Lines = DStream<Pair<string, string>>;
const split = (text: string): string[] => (text === '' ? [] : text.split(' '));

describe('flatMapValues', () => {
  it('pairs the key with each value the function returns, in order', async () => {
    const input = [
      [
        ['doc1', 'a b'],
        ['doc2', ''],
        ['doc1', 'c'],
      ],
      [],
      [['doc3', 'd e f']],
    ] as Pair<string, string>[][];
    const out = await runBatches(input, (s: Lines) => s.pipe(flatMapValues(split)));
    expect(out).toEqual([
      [
        ['doc1', 'a'],
        ['doc1', 'b'],
        ['doc1', 'c'],
      ],
      [],
      [
        ['doc3', 'd'],
        ['doc3', 'e'],
        ['doc3', 'f'],
      ],
    ]);
  });

  it('gives an empty batch for an empty batch and when every value maps to nothing', async () => {
    expect(await runBatches([[], [['k', '']]] as Pair<string, string>[][], (s: Lines) => s.pipe(flatMapValues(split)))).toEqual([[], []]);
  });

  it('accepts any iterable, such as a generator', async () => {
    const out = await runBatches([[[['k', 1], 2]]] as Pair<readonly (string | number)[], number>[][], (s) =>
      s.pipe(
        flatMapValues(function* (n: number) {
          for (let i = 0; i < n; i++) yield i;
        }),
      ),
    );
    expect(out).toEqual([
      [
        [['k', 1], 0],
        [['k', 1], 1],
      ],
    ]);
  });

  it('keeps the partitioning of its input (no shuffle)', async () => {
    const input = [
      [
        ['a', 'x y'],
        ['b', 'z'],
        ['c', 'w'],
        ['a', 'v'],
      ],
    ] as Pair<string, string>[][];
    const grouped = (s: Lines) => s.pipe(reduceByKey((a: string, b: string) => `${a} ${b}`, { numPartitions: 3 }));
    const before = await runBatches(input, (s: Lines) => grouped(s).pipe(glom()));
    const after = await runBatches(input, (s: Lines) => grouped(s).pipe(flatMapValues(split), glom()));
    expect(after).toEqual(before.map((batch) => batch.map((partition) => partition.flatMap(([k, text]) => split(text).map((w) => [k, w])))));
  });

  it('gives the same multiset with 3 partitions as with 1', async () => {
    const input = [
      [
        ['a', 'x y'],
        ['b', 'z'],
        ['c', ''],
        ['a', 'v w u'],
      ],
    ] as Pair<string, string>[][];
    const one = await runBatches(input, (s: Lines) => s.pipe(flatMapValues(split)), { numPartitions: 1 });
    const three = await runBatches(input, (s: Lines) => s.pipe(flatMapValues(split)), { numPartitions: 3 });
    expect(sortBatches(three)).toEqual(sortBatches(one));
  });

  it('fails the batch naming flatMapValues#id when the function throws', async () => {
    const boom = new Error('values');
    const error = await rejectionOf(
      runBatches([[['a', 'x']], [['b', 'bad']]] as Pair<string, string>[][], (s: Lines) =>
        s.pipe(
          flatMapValues((text: string) => {
            if (text === 'bad') throw boom;
            return [text];
          }),
        ),
      ),
    );
    expectUserFunctionFailed(error, { operator: /^flatMapValues#\d+$/, batchId: 1, cause: boom });
  });

  it('fails the batch naming flatMapValues#id when a returned generator throws, and runs no later batch (regression)', async () => {
    const boom = new Error('lazy');
    const seen: Pair<string, string>[][] = [];
    const run = await runManually([[['a', 'x']], [['b', 'bad']], [['c', 'y']]] as Pair<string, string>[][], (s: Lines) =>
      s.pipe(
        flatMapValues(function* (text: string) {
          if (text === 'bad') throw boom;
          yield text;
        }),
        foreachBatch((records) => void seen.push([...records])),
      ),
    );
    expectUserFunctionFailed(run.error, { operator: /^flatMapValues#\d+$/, batchId: 1, cause: boom });
    expect(seen).toEqual([[['a', 'x']]]);
  });
});
