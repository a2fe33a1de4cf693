import { describe, expect, it } from 'vitest';
import { filter, foreachBatch, glom } from 'sluice';
import { runBatches } from 'sluice/testing';
import { expectUserFunctionFailed, rejectionOf, runManually } from '../run-manually.js';

describe('filter', () => {
  it('keeps the records that satisfy the predicate, in order, batch by batch', async () => {
    const out = await runBatches([[1, 2, 3, 4], [5], [6, 8]], (s) => s.pipe(filter((x: number) => x % 2 === 0)));
    expect(out).toEqual([[2, 4], [], [6, 8]]);
  });

  it('gives an empty batch for an empty batch', async () => {
    expect(await runBatches([[], [1], []], (s) => s.pipe(filter(() => true)))).toEqual([[], [1], []]);
  });

  it('keeps duplicates and falsy records the predicate accepts', async () => {
    const out = await runBatches([[0, '', 0, null, false]], (s) => s.pipe(filter(() => true)));
    expect(out).toEqual([[0, '', 0, null, false]]);
  });

  it('keeps the partitioning of its input, emptying partitions it removes everything from', async () => {
    const out = await runBatches([[1, 2, 3, 4]], (s) => s.pipe(filter((x: number) => x > 2), glom()));
    expect(out).toEqual([[[], [3, 4]]]);
  });

  it('fails the batch with USER_FUNCTION_FAILED naming filter#id when the predicate throws', async () => {
    const boom = new Error('predicate');
    const error = await rejectionOf(
      runBatches([[1], [], [2]], (s) =>
        s.pipe(
          filter((x: number) => {
            if (x === 2) throw boom;
            return true;
          }),
        ),
      ),
    );
    expectUserFunctionFailed(error, { operator: /^filter#\d+$/, batchId: 2, cause: boom });
  });

  it('runs no batch after the failing one', async () => {
    const boom = new Error('predicate');
    const seen: number[][] = [];
    const run = await runManually([[1], [2], [3]], (s) =>
      s.pipe(
        filter((x: number) => {
          if (x === 2) throw boom;
          return true;
        }),
        foreachBatch((records) => void seen.push([...records])),
      ),
    );
    expectUserFunctionFailed(run.error, { operator: /^filter#\d+$/, batchId: 1, cause: boom });
    expect(seen).toEqual([[1]]);
  });
});
