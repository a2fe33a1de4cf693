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
  return (stream: DStream<T>) => {
    for (const other of others) {
      if (other.slideDuration !== stream.slideDuration) {
        throw new TypeError(`union: ${other.describe} slides every ${other.slideDuration} ms but ${stream.describe} every ${stream.slideDuration} ms; union streams with the same slide.`);
      }
    }
    return new DerivedDStream<T>('union', [stream, ...others], (inputs) =>
      new Batch(inputs.flatMap((batch) => (batch as Batch<T>).partitions)),
    );
  };
}
