import { toBatch, type Batch, type BatchLike } from '../batch.js';
import type { DStream, Operator } from '../dstream.js';
import type { Time } from '../time.js';
import { asStream, type StaticDataset } from './constant.js';
import { callUserAsync, DerivedDStream } from './derived.js';

/**
 * Applies a batch-to-batch function to every batch, with the batch time: the escape hatch for
 * anything the other operators do not offer.
 *
 * @param fn - returns a batch or any iterable of records (may be async).
 * @throws SluiceError `USER_FUNCTION_FAILED` (failing the batch) when `fn` throws or rejects, or an
 * iterable it returns throws while it is read.
 * @example stream.pipe(transform((batch, time) => batch.toArray().sort(byAmount).slice(0, 10)))
 */
export function transform<T, U>(fn: (batch: Batch<T>, batchTime: Time) => BatchLike<U> | Promise<BatchLike<U>>): Operator<T, U> {
  return (stream: DStream<T>) =>
    new DerivedDStream<U>('transform', [stream], ([input], bc, operator) =>
      // toBatch inside: reading a returned iterable (a generator) runs user code too.
      callUserAsync(operator, async () => toBatch(await fn(input as Batch<T>, bc.batchTime))),
    );
}

/**
 * Applies a function to every pair of batches of this stream and `other`, with the batch time.
 * `other` is a stream of the same context or a static dataset (the same records every batch),
 * which makes this the way to join a stream with reference data.
 *
 * @throws SluiceError `USER_FUNCTION_FAILED` (failing the batch) when `fn` throws or rejects, or an
 * iterable it returns throws while it is read.
 * @throws TypeError when `other` is a stream of another context or with another slide.
 * @example events.pipe(transformWith(countries, (batch, table) => enrich(batch, table)))
 */
export function transformWith<T, U, R>(
  other: DStream<U> | StaticDataset<U>,
  fn: (batch: Batch<T>, otherBatch: Batch<U>, batchTime: Time) => BatchLike<R> | Promise<BatchLike<R>>,
): Operator<T, R> {
  return (stream: DStream<T>) =>
    new DerivedDStream<R>('transformWith', [stream, asStream(stream, other)], ([a, b], bc, operator) =>
      callUserAsync(operator, async () => toBatch(await fn(a as Batch<T>, b as Batch<U>, bc.batchTime))),
    );
}
