import { describe, expect, it } from 'vitest';
import { glom, ManualClock, map, StreamingContext, transform, union } from 'sluice';
import { runBatches } from 'sluice/testing';
import { EverySecondBatch } from './every-second-batch.js';

describe('union', () => {
  it('merges two streams batch by batch: the first stream’s records, then the other’s', async () => {
    const out = await runBatches({ left: [[1, 2], [3], []], right: [[10], [], [], [40]] }, ({ left: a, right: b }) => a.pipe(union(b)));
    expect(out).toEqual([[1, 2, 10], [3], [], [40]]);
  });

  it('merges any number of streams in the order given', async () => {
    const out = await runBatches({ left: [['a'], ['b']], right: [['x'], ['y']] }, ({ left: a, right: b }) => a.pipe(union(b, a.pipe(map((s: string) => s.toUpperCase())))));
    expect(out).toEqual([
      ['a', 'x', 'A'],
      ['b', 'y', 'B'],
    ]);
  });

  it('keeps every partition of every input (no shuffle): the counts add up', async () => {
    const out = await runBatches({ left: [[1, 2, 3]], right: [[4]] }, ({ left: a, right: b }) => a.pipe(union(b), glom()), { numPartitions: 2 });
    expect(out).toEqual([[[1, 2], [3], [4], []]]);
    const counts = await runBatches({ left: [[]], right: [[]] }, ({ left: a, right: b }) => a.pipe(union(b), transform((batch) => [batch.numPartitions])), { numPartitions: 3 });
    expect(counts).toEqual([[6]]);
  });

  it('keeps duplicates, including a stream united with itself', async () => {
    expect(await runBatches([[1, 2], []], (s) => s.pipe(union(s)), { numPartitions: 1 })).toEqual([[1, 2, 1, 2], []]);
  });

  it('with no other stream is the input itself', async () => {
    expect(await runBatches([[1], [2, 3]], (s) => s.pipe(union()))).toEqual([[1], [2, 3]]);
  });

  it('throws a TypeError when the streams belong to different streaming contexts', () => {
    const clock = new ManualClock();
    const one = new StreamingContext({ batchInterval: 1000, clock }).queueStream<number>();
    const two = new StreamingContext({ batchInterval: 1000, clock }).queueStream<number>();
    expect(() => one.pipe(union(two))).toThrow(TypeError);
    expect(() => one.pipe(union(two))).toThrow(/different streaming contexts/);
  });

  it('throws a TypeError when the streams slide at different intervals', () => {
    const ctx = new StreamingContext({ batchInterval: 1000, clock: new ManualClock() });
    const input = ctx.queueStream<number>();
    expect(() => input.pipe(union(new EverySecondBatch(input)))).toThrow(TypeError);
  });
});
