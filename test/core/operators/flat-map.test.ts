import { describe, expect, it } from 'vitest';
import { flatMap, foreachBatch, glom } from 'sluice';
import { runBatches } from 'sluice/testing';
import { expectUserFunctionFailed, rejectionOf, runManually } from '../run-manually.js';

describe('flatMap', () => {
  it('replaces every record with zero, one or many records, in order', async () => {
    const out = await runBatches([['a b', '', 'c'], ['d e f']], (s) => s.pipe(flatMap((line: string) => (line === '' ? [] : line.split(' ')))));
    expect(out).toEqual([['a', 'b', 'c'], ['d', 'e', 'f']]);
  });

  it('gives an empty batch for an empty batch and when every record maps to nothing', async () => {
    const out = await runBatches([[], [1, 2], []], (s) => s.pipe(flatMap(() => [])));
    expect(out).toEqual([[], [], []]);
  });

  it('accepts any iterable: a generator, a Set, a string', async () => {
    function* upTo(n: number): Generator<number> {
      for (let i = 1; i <= n; i++) yield i;
    }
    expect(await runBatches([[3, 0, 2]], (s) => s.pipe(flatMap(upTo)))).toEqual([[1, 2, 3, 1, 2]]);
    expect(await runBatches([[[1, 1, 2]]], (s) => s.pipe(flatMap((xs: number[]) => new Set(xs))))).toEqual([[1, 2]]);
    expect(await runBatches([['ab', 'c']], (s) => s.pipe(flatMap((w: string) => w)))).toEqual([['a', 'b', 'c']]);
  });

  it('keeps the partitioning of its input', async () => {
    const out = await runBatches([[1, 2, 3]], (s) => s.pipe(flatMap((x: number) => [x, x]), glom()));
    expect(out).toEqual([[[1, 1, 2, 2], [3, 3]]]);
  });

  it('fails the batch with USER_FUNCTION_FAILED naming flatMap#id when the function throws', async () => {
    const boom = new Error('split');
    const error = await rejectionOf(
      runBatches([['ok'], ['bad']], (s) =>
        s.pipe(
          flatMap((w: string) => {
            if (w === 'bad') throw boom;
            return [w];
          }),
        ),
      ),
    );
    expectUserFunctionFailed(error, { operator: /^flatMap#\d+$/, batchId: 1, cause: boom });
  });

  it('treats an error thrown while iterating a returned generator as the function failing (regression)', async () => {
    const boom = new Error('lazy');
    const seen: number[][] = [];
    const run = await runManually([[1], [2], [3]], (s) =>
      s.pipe(
        flatMap(function* (x: number) {
          yield x;
          if (x === 2) throw boom;
        }),
        foreachBatch((records) => void seen.push([...records])),
      ),
    );
    expectUserFunctionFailed(run.error, { operator: /^flatMap#\d+$/, batchId: 1, cause: boom });
    expect(seen).toEqual([[1]]);
  });

  it('fails the batch naming flatMap#id when the function returns something that is not iterable (regression)', async () => {
    const error = await rejectionOf(runBatches([[1]], (s) => s.pipe(flatMap(() => null as unknown as number[]))));
    expect(error).toMatchObject({ code: 'USER_FUNCTION_FAILED', operator: expect.stringMatching(/^flatMap#\d+$/) as unknown, batchId: 0 });
    expect((error as Error).cause).toBeInstanceOf(TypeError);
  });
});
