import { Batch } from '../batch.js';
import type { DStream, Operator } from '../dstream.js';
import { DerivedDStream } from './derived.js';

/**
 * Merges this stream with others of the same context and slide: each batch holds the partitions
 * of every input's batch, in the order given.
 *
 * @throws TypeError when the streams belong to different contexts or slide at different intervals.
 * @example clicks.pipe(union(moreClicks, evenMoreClicks))
 */
export function union<T>(...others: readonly DStream<T>[]): Operator<T, T> {
  return (stream: DStream<T>) =>
    new DerivedDStream<T>('union', [stream, ...others], (inputs) => new Batch(inputs.flatMap((batch) => (batch as Batch<T>).partitions)));
}
