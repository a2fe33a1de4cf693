import { Batch } from '../batch.js';
import type { DStream, Operator } from '../dstream.js';
import { DerivedDStream } from './derived.js';

/**
 * The stream {@link union} returns: its batches keep the records' event times when every input
 * carries them.
 */
export class UnionDStream<T> extends DerivedDStream<T> {
  constructor(inputs: readonly DStream<T>[]) {
    super('union', inputs, (batches) => {
      const partitions = batches.flatMap((batch) => (batch as Batch<T>).partitions);
      if (!batches.every((batch) => batch.eventTimes !== undefined)) return new Batch(partitions);
      return new Batch(partitions, batches.flatMap((batch) => batch.eventTimes as readonly Float64Array[]));
    });
  }
}

/**
 * Merges this stream with others of the same context and slide: each batch holds the partitions
 * of every input's batch, in the order given. Records keep the event time `withWatermark` gave
 * them when every input carries one.
 *
 * @throws TypeError when the streams belong to different contexts or slide at different intervals.
 * @example clicks.pipe(union(moreClicks, evenMoreClicks))
 */
export function union<T>(...others: readonly DStream<T>[]): Operator<T, T> {
  return (stream: DStream<T>) => new UnionDStream<T>([stream, ...others]);
}
