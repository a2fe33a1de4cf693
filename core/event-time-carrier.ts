import type { DStream } from './dstream.js';
import { NarrowDStream } from './operators/narrow.js';
import { UnionDStream } from './operators/union.js';

/**
 * Marks a stream that is not a per-record operator but still carries the event times of its
 * single parent's records to the records it emits (a filter that keeps state, such as
 * `dropDuplicates`): set it to `true` on the stream.
 */
export const CARRIES_EVENT_TIME: unique symbol = Symbol('sluice.carriesEventTime');

/**
 * Whether the records of `stream` carry the event time a `withWatermark` upstream gave them (in
 * `Batch.eventTimes`): the nearest stream upstream whose records do not, or `undefined` when they
 * all do. A watermarked stream (one registered with the graph's watermark tracker) sets the
 * times; per-record (narrow) operators carry them, and so does a union of streams that all carry
 * them, as does a stream marked {@link CARRIES_EVENT_TIME}. Every other operator (shuffles, joins, `mapPartitions`, `transform`, windows, a user's
 * own `DStream`) drops them.
 */
export function eventTimeBreak(stream: DStream<unknown>): DStream<unknown> | undefined {
  if (stream.graph.watermarks.has(stream.id)) return undefined;
  if (stream instanceof NarrowDStream || (stream as { [CARRIES_EVENT_TIME]?: boolean })[CARRIES_EVENT_TIME] === true) return eventTimeBreak(stream.parents[0] as DStream<unknown>);
  if (stream instanceof UnionDStream) {
    for (const parent of stream.parents) {
      const found = eventTimeBreak(parent);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  return stream;
}
