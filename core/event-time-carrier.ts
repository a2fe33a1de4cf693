import type { DStream } from './dstream.js';
import { NarrowDStream } from './operators/narrow.js';
import { UnionDStream } from './operators/union.js';

/**
 * Whether the records of `stream` carry the event time a `withWatermark` upstream gave them (in
 * `Batch.eventTimes`): the nearest stream upstream whose records do not, or `undefined` when they
 * all do. A watermarked stream (one registered with the graph's watermark tracker) sets the
 * times; per-record (narrow) operators carry them, and so does a union of streams that all carry
 * them. Every other operator (shuffles, joins, `mapPartitions`, `transform`, windows, a user's
 * own `DStream`) drops them.
 */
export function eventTimeBreak(stream: DStream<unknown>): DStream<unknown> | undefined {
  if (stream.graph.watermarks.has(stream.id)) return undefined;
  if (stream instanceof NarrowDStream) return eventTimeBreak(stream.parents[0] as DStream<unknown>);
  if (stream instanceof UnionDStream) {
    for (const parent of stream.parents) {
      const found = eventTimeBreak(parent);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  return stream;
}
