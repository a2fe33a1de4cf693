import { describe, expect, it } from 'vitest';
import { foreachBatch, glom, map } from 'sluice';
import { runBatches } from 'sluice/testing';
import { expectUserFunctionFailed, rejectionOf, runManually } from '../run-manually.js';

describe('map', () => {
  it('applies the function to every record of every batch, keeping order', async () => {
    const out = await runBatches([[1, 2, 3], [4], [5, 6]], (s) => s.pipe(map((x: number) => x * 10)));
    expect(out).toEqual([[10, 20, 30], [40], [50, 60]]);
  });

  it('gives an empty batch for an empty batch, and the batches after it still run', async () => {
    const out = await runBatches([[], ['a'], [], []], (s) => s.pipe(map((x: string) => x.toUpperCase())));
    expect(out).toEqual([[], ['A'], [], []]);
  });

  it('emits exactly one record per input record, even undefined or null', async () => {
    const out = await runBatches([[1, 2, 3]], (s) => s.pipe(map((x: number) => (x === 2 ? null : undefined))));
    expect(out).toEqual([[undefined, null, undefined]]);
  });

  it('keeps the partitioning of its input', async () => {
    const out = await runBatches([[1, 2, 3, 4, 5]], (s) => s.pipe(map((x: number) => -x), glom()), { numPartitions: 3 });
    expect(out).toEqual([[[-1, -2], [-3, -4], [-5]]]);
  });

  it('runs on batches the clock cuts with no input at all', async () => {
    const out = await runBatches([[1]], (s) => s.pipe(map((x: number) => x + 1)), { numBatches: 3 });
    expect(out).toEqual([[2], [], []]);
  });

  it('fails the batch with USER_FUNCTION_FAILED naming map#id, the batch and the cause', async () => {
    const boom = new Error('boom');
    const error = await rejectionOf(
      runBatches([[1], [2, 3], [4]], (s) =>
        s.pipe(
          map((x: number) => {
            if (x === 3) throw boom;
            return x;
          }),
        ),
      ),
    );
    expectUserFunctionFailed(error, { operator: /^map#\d+$/, batchId: 1, cause: boom });
  });

  it('runs no batch after the failing one, and outputs saw only the earlier batches', async () => {
    const boom = new TypeError('bad record');
    const seen: number[][] = [];
    const mapped: number[] = [];
    const run = await runManually([[1], [2], [3], [4]], (s) =>
      s.pipe(
        map((x: number) => {
          mapped.push(x);
          if (x === 2) throw boom;
          return x * 2;
        }),
        foreachBatch((records) => void seen.push([...records])),
      ),
    );
    expectUserFunctionFailed(run.error, { operator: /^map#\d+$/, batchId: 1, cause: boom });
    expect(seen).toEqual([[2]]);
    expect(mapped).toEqual([1, 2]);
  });

  it('passes a thrown non-Error value through as the cause', async () => {
    const error = await rejectionOf(
      runBatches([['x']], (s) =>
        s.pipe(
          map(() => {
            // eslint-disable-next-line @typescript-eslint/only-throw-error
            throw 'plain string';
          }),
        ),
      ),
    );
    expectUserFunctionFailed(error, { operator: /^map#\d+$/, batchId: 0, cause: 'plain string' });
  });
});
