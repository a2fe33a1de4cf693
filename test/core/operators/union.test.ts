import { describe, expect, it } from 'vitest';
import { glom, ManualClock, map, StreamingContext, transform, union, type SluiceError } from 'sluice';
import { runBatches } from 'sluice/testing';
import { rejectionOf } from '../run-manually.js';
import { EverySecondBatch } from './every-second-batch.js';
import { GapStream } from './gap-stream.js';

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

  it('fails the batch naming itself, the input and the batch time when an input gives no batch (as Spark does)', async () => {
    const error = (await rejectionOf(
      runBatches({ left: [[1], [2], [3]], right: [[10], [20], [30]] }, ({ left: a, right: b }) => a.pipe(union(new GapStream(b, [1]))), { batchInterval: 1000 }),
    )) as SluiceError;
    expect(error.code).toBe('BATCH_FAILED');
    expect(error.operator).toMatch(/^union#\d+$/);
    expect(error).toMatchObject({ batchId: 1, batchTime: 2000 });
    expect(error.message).toMatch(/^Operator union#\d+ failed in batch 1 \(batch time 2000\): its input gapStream#\d+ gave no batch at batch time 2000, so union could not compute one .*return an empty batch \(Batch\.empty\(\)\) instead/);
  });

  it('between the slides of windowed inputs, gives no batch itself, as they do', async () => {
    const out = await runBatches({ left: [[1], [2], [3], [4]], right: [[10], [20], [30], [40]] }, ({ left: a, right: b }) => new EverySecondBatch(a).pipe(union(new EverySecondBatch(b))));
    expect(out).toEqual([
      [2, 20],
      [4, 40],
    ]);
  });
});

