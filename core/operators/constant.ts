import { Batch } from '../batch.js';
import type { DStream } from '../dstream.js';
import { DStream as BaseDStream } from '../dstream.js';
import type { DStreamGraph } from '../graph.js';
import type { Duration } from '../time.js';

/** A static dataset joined or combined with a stream: the same records in every batch. */
export type StaticDataset<T> = Batch<T> | readonly T[];

/**
 * A stream that produces the same batch every batch: how a static dataset enters the graph. It
 * slides with the stream it is combined with, so it can meet a windowed stream too.
 */
class ConstantDStream<T> extends BaseDStream<T> {
  readonly #batch: Batch<T>;

  constructor(graph: DStreamGraph, batch: Batch<T>, slideDuration: Duration) {
    super({ kind: 'constant', graph, parents: [], slideDuration });
    this.#batch = batch;
  }

  protected override compute(): Batch<T> {
    return this.#batch;
  }
}

/** `other` as a stream in the graph of `like`: a stream as it is, a static dataset as a constant stream. */
export function asStream<T>(like: DStream<unknown>, other: DStream<T> | StaticDataset<T>): DStream<T> {
  if (other instanceof BaseDStream) return other;
  const batch = other instanceof Batch ? other : Batch.of([...other]);
  return new ConstantDStream(like.graph, batch, like.slideDuration);
}
