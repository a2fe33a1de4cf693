import { describe, expect, it } from 'vitest';
import { Batch, glom, ManualClock, StreamingContext, transform, transformWith, type Pair, type SluiceError } from 'sluice';
import { runBatches } from 'sluice/testing';
import { expectUserFunctionFailed, rejectionOf } from '../run-manually.js';
import { EverySecondBatch } from './every-second-batch.js';
import { GapStream } from './gap-stream.js';

describe('transform', () => {
  it('applies a batch-to-batch function to every batch', async () => {
    const top2 = (batch: Batch<number>): number[] => batch.toArray().sort((a, b) => b - a).slice(0, 2);
    expect(await runBatches([[3, 9, 1, 7], [5], []], (s) => s.pipe(transform(top2)))).toEqual([[9, 7], [5], []]);
  });

  it('is called for empty batches too, so it may produce records from nothing', async () => {
    expect(await runBatches([[], [1, 2]], (s) => s.pipe(transform((batch: Batch<number>) => [batch.size])))).toEqual([[0], [2]]);
  });

  it('receives the batch time: zeroTime + (batchId + 1) * batchInterval', async () => {
    const out = await runBatches([[], [], []], (s) => s.pipe(transform((_batch: Batch<never>, batchTime) => [batchTime])), { batchInterval: 500 });
    expect(out).toEqual([[500], [1000], [1500]]);
  });

  it('keeps the partitioning of a returned Batch, and puts a returned iterable in one partition', async () => {
    const keep = await runBatches([[1, 2, 3]], (s) => s.pipe(transform((batch: Batch<number>) => batch.map((x) => x * 2)), glom()), { numPartitions: 3 });
    expect(keep).toEqual([[[2], [4], [6]]]);
    const single = await runBatches([[1, 2, 3]], (s) => s.pipe(transform((batch: Batch<number>) => new Set(batch.toArray())), glom()), { numPartitions: 3 });
    expect(single).toEqual([[[1, 2, 3]]]);
  });

  it('awaits an async function', async () => {
    const out = await runBatches([[1], [2]], (s) => s.pipe(transform(async (batch: Batch<number>) => Promise.resolve(batch.map((x) => x + 1)))));
    expect(out).toEqual([[2], [3]]);
  });

  it('fails the batch naming transform#id when the function throws or rejects', async () => {
    const boom = new Error('transform');
    const sync = await rejectionOf(
      runBatches([[1], [2]], (s) =>
        s.pipe(
          transform((batch: Batch<number>) => {
            if (batch.toArray().includes(2)) throw boom;
            return batch;
          }),
        ),
      ),
    );
    expectUserFunctionFailed(sync, { operator: /^transform#\d+$/, batchId: 1, cause: boom });
    const async = await rejectionOf(runBatches([[1]], (s) => s.pipe(transform(() => Promise.reject(boom)))));
    expectUserFunctionFailed(async, { operator: /^transform#\d+$/, batchId: 0, cause: boom });
  });
  it('fails the batch naming transform#id when a returned generator throws (regression)', async () => {
    const boom = new Error('lazy');
    const error = await rejectionOf(
      runBatches([[1]], (s) =>
        s.pipe(
          transform(function* (batch: Batch<number>) {
            yield* batch.toArray();
            throw boom;
          }),
        ),
      ),
    );
    expectUserFunctionFailed(error, { operator: /^transform#\d+$/, batchId: 0, cause: boom });
  });
});

describe('transformWith', () => {
  it('applies a function to the pair of batches of two streams, batch by batch', async () => {
    const out = await runBatches({ left: [[1, 2], [3], []], right: [['a'], [], ['b']] }, ({ left: a, right: b }) =>
      a.pipe(transformWith(b, (left: Batch<number>, right: Batch<string>) => [`${left.toArray().join('')}|${right.toArray().join('')}`])),
    );
    expect(out).toEqual([['12|a'], ['3|'], ['|b']]);
  });

  it('with a static dataset array, gets the same dataset in every batch', async () => {
    const countries = [
      ['fr', 'France'],
      ['de', 'Germany'],
    ] as const satisfies readonly Pair<string, string>[];
    const out = await runBatches([['fr', 'xx'], [], ['de']], (s) =>
      s.pipe(
        transformWith(countries, (codes: Batch<string>, table: Batch<Pair<string, string>>) => {
          const names = new Map(table.toArray());
          return codes.toArray().map((code) => names.get(code) ?? '?');
        }),
      ),
    );
    expect(out).toEqual([['France', '?'], [], ['Germany']]);
  });

  it('with a static dataset, does not see later changes to the array it was given', async () => {
    const table = [1, 2];
    const out = await runBatches([[0], [0]], (s) => {
      const built = s.pipe(transformWith(table, (_batch: Batch<number>, other: Batch<number>) => [other.size]));
      table.push(3);
      return built;
    });
    expect(out).toEqual([[2], [2]]);
  });

  it('with a static Batch, keeps its partitioning', async () => {
    const table = new Batch([[1], [2, 3]]);
    const out = await runBatches([[0], [0]], (s) => s.pipe(transformWith(table, (_batch: Batch<number>, other: Batch<number>) => [other.numPartitions, other.size])));
    expect(out).toEqual([
      [2, 3],
      [2, 3],
    ]);
  });

  it('receives the batch time', async () => {
    const out = await runBatches({ left: [[], []], right: [[], []] }, ({ left: a, right: b }) => a.pipe(transformWith(b, (_x: Batch<never>, _y: Batch<never>, batchTime) => [batchTime])));
    expect(out).toEqual([[1000], [2000]]);
  });

  it('fails the batch naming transformWith#id when the function throws', async () => {
    const boom = new Error('with');
    const error = await rejectionOf(
      runBatches([[1], [2]], (s) =>
        s.pipe(
          transformWith([0], (batch: Batch<number>) => {
            if (batch.toArray().includes(2)) throw boom;
            return batch;
          }),
        ),
      ),
    );
    expectUserFunctionFailed(error, { operator: /^transformWith#\d+$/, batchId: 1, cause: boom });
  });

  it('fails the batch naming transformWith#id when a returned generator throws (regression)', async () => {
    const boom = new Error('lazy');
    const error = await rejectionOf(
      runBatches([[1]], (s) =>
        s.pipe(
          transformWith([2], function* (batch: Batch<number>) {
            yield* batch.toArray();
            throw boom;
          }),
        ),
      ),
    );
    expectUserFunctionFailed(error, { operator: /^transformWith#\d+$/, batchId: 0, cause: boom });
  });

  it('throws a TypeError when the other stream belongs to another streaming context', () => {
    const clock = new ManualClock();
    const one = new StreamingContext({ batchInterval: 1000, clock }).queueStream<number>();
    const two = new StreamingContext({ batchInterval: 1000, clock }).queueStream<number>();
    expect(() => one.pipe(transformWith(two, (a: Batch<number>) => a))).toThrow(TypeError);
  });

  it('throws a TypeError when the streams slide at different intervals (as Spark requires) (regression)', () => {
    const ctx = new StreamingContext({ batchInterval: 1000, clock: new ManualClock() });
    const input = ctx.queueStream<number>();
    expect(() => input.pipe(transformWith(new EverySecondBatch(input), (a: Batch<number>) => a))).toThrow(TypeError);
  });

  it('with a static dataset, works on a stream that slides slower than the batch interval (regression)', async () => {
    const out = await runBatches([[1], [2], [3], [4]], (s) =>
      new EverySecondBatch(s).pipe(transformWith([10], (batch: Batch<number>, other: Batch<number>) => [...batch.toArray(), ...other.toArray()])),
    );
    expect(out).toEqual([
      [2, 10],
      [4, 10],
    ]);
  });
});

describe('transform returning something that is not records', () => {
  it('fails the batch naming the operator instead of producing an empty batch', async () => {
    await expect(runBatches([[1]], (s) => s.pipe(transform(() => 5 as unknown as number[])))).rejects.toMatchObject({ code: 'USER_FUNCTION_FAILED', operator: expect.stringMatching(/^transform#\d+$/) as unknown });
  });
});

describe('transform and transformWith over an input that gives no batch', () => {
  it('transform fails the batch naming itself, the input and the batch time, without calling the function', async () => {
    const seen: number[] = [];
    const error = (await rejectionOf(
      runBatches([[1], [2], [3]], (s) =>
        new GapStream(s, [2]).pipe(
          transform((batch: Batch<number>) => {
            seen.push(...batch.toArray());
            return batch;
          }),
        ),
      ),
    )) as SluiceError;
    expect(seen).toEqual([1, 2]);
    expect(error).toMatchObject({ code: 'BATCH_FAILED', batchId: 2, batchTime: 3000 });
    expect(error.operator).toMatch(/^transform#\d+$/);
    expect(error.message).toMatch(/its input gapStream#\d+ gave no batch at batch time 3000, so transform could not compute one/);
  });

  it.each(['this stream', 'the other stream'])('transformWith fails the batch when %s gives no batch', async (which) => {
    const error = (await rejectionOf(
      runBatches({ left: [[1], [2]], right: [['a'], ['b']] }, ({ left, right }) =>
        (which === 'this stream' ? new GapStream(left, [0]) : left).pipe(transformWith(which === 'this stream' ? right : new GapStream(right, [0]), (a: Batch<number>) => a)),
      ),
    )) as SluiceError;
    expect(error).toMatchObject({ code: 'BATCH_FAILED', batchId: 0, batchTime: 1000 });
    expect(error.operator).toMatch(/^transformWith#\d+$/);
    expect(error.message).toMatch(/its input gapStream#\d+ gave no batch at batch time 1000, so transformWith could not compute one/);
  });
});

