import { Batch } from '../batch.js';
import type { DStream, Operator } from '../dstream.js';
import { checkNumPartitions } from '../keyed/partitioner.js';
import { DerivedDStream } from './derived.js';

/**
 * Redistributes every batch's records over `numPartitions` partitions, round-robin: input
 * partition `p` starts at output partition `p % numPartitions`, so the result is deterministic.
 *
 * **Memory.** Nothing between batches. Within a batch, new partition arrays over the same
 * records (references, not copies).
 *
 * @throws RangeError when `numPartitions` is not a positive integer.
 * @example skewed.pipe(repartition(8))
 */
export function repartition<T>(numPartitions: number): Operator<T, T> {
  const n = checkNumPartitions('repartition', numPartitions) ?? 1;
  return (stream: DStream<T>) =>
    new DerivedDStream<T>('repartition', [stream], ([input]) => {
      const out: T[][] = Array.from({ length: n }, () => []);
      (input as Batch<T>).partitions.forEach((records, p) => {
        let target = p % n;
        for (const record of records) {
          (out[target] as T[]).push(record);
          target = target + 1 === n ? 0 : target + 1;
        }
      });
      return new Batch(out);
    });
}
