import { describe, expect, it } from 'vitest';
import { glom, groupByKey, keyBy, mapToPair } from 'sluice';
import { runBatches } from 'sluice/testing';
import { expectUserFunctionFailed, rejectionOf } from '../run-manually.js';

interface Payment {
  readonly card: string;
  readonly amount: number;
}

describe('mapToPair', () => {
  it('maps every record to the [key, value] pair the function returns, in order', async () => {
    const out = await runBatches([['a', 'bb'], [], ['ccc']], (s) => s.pipe(mapToPair((w: string) => [w, w.length])));
    expect(out).toEqual([[['a', 1], ['bb', 2]], [], [['ccc', 3]]]);
  });

  it('keeps the partitioning of its input (no shuffle)', async () => {
    const out = await runBatches([[1, 2, 3]], (s) => s.pipe(mapToPair((x: number) => [x % 2, x]), glom()));
    expect(out).toEqual([
      [
        [
          [1, 1],
          [0, 2],
        ],
        [[1, 3]],
      ],
    ]);
  });

  it('accepts array keys', async () => {
    const out = await runBatches([[{ card: 'c1', amount: 5 }]], (s) => s.pipe(mapToPair((p: Payment) => [[p.card, p.amount], p])));
    expect(out).toEqual([[[['c1', 5], { card: 'c1', amount: 5 }]]]);
  });

  it('fails the batch naming mapToPair#id when the function throws', async () => {
    const boom = new Error('pair');
    const error = await rejectionOf(
      runBatches([[1], [2]], (s) =>
        s.pipe(
          mapToPair((x: number) => {
            if (x === 2) throw boom;
            return [x, x];
          }),
        ),
      ),
    );
    expectUserFunctionFailed(error, { operator: /^mapToPair#\d+$/, batchId: 1, cause: boom });
  });
});

describe('keyBy', () => {
  it('pairs every record with its key: [f(record), record]', async () => {
    const payments = [
      { card: 'c1', amount: 5 },
      { card: 'c2', amount: 7 },
    ];
    const out = await runBatches([payments, []], (s) => s.pipe(keyBy((p: Payment) => p.card)));
    expect(out).toEqual([
      [
        ['c1', payments[0]],
        ['c2', payments[1]],
      ],
      [],
    ]);
  });

  it('keeps the record itself (same object), not a copy', async () => {
    const payment = { card: 'c1', amount: 5 };
    const out = await runBatches([[payment]], (s) => s.pipe(keyBy((p: Payment) => p.card)));
    expect(out[0]?.[0]?.[1]).toBe(payment);
  });

  it('with an array key, groups equal arrays together downstream', async () => {
    const input = [
      { card: 'c1', amount: 42 },
      { card: 'c2', amount: 42 },
      { card: 'c1', amount: 42 },
    ];
    const out = await runBatches([input], (s) => s.pipe(keyBy((p: Payment) => [p.card, p.amount] as const), groupByKey()), { numPartitions: 1 });
    expect(out).toEqual([
      [
        [['c1', 42], [input[0], input[2]]],
        [['c2', 42], [input[1]]],
      ],
    ]);
  });

  it('fails the batch naming keyBy#id when the function throws', async () => {
    const boom = new Error('key');
    const error = await rejectionOf(
      runBatches([[{ card: 'c1', amount: 1 }]], (s) =>
        s.pipe(
          keyBy((): string => {
            throw boom;
          }),
        ),
      ),
    );
    expectUserFunctionFailed(error, { operator: /^keyBy#\d+$/, batchId: 0, cause: boom });
  });
});
