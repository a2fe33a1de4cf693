import type { DStream } from '../dstream.js';
import { callUserAsync } from '../operators/derived.js';
import { OutputOperation, type BatchInfo } from './output-operation.js';

/**
 * Hands every batch's records to `fn`, with the batch id and time; the batch waits for the
 * promise `fn` returns.
 *
 * Delivery is **at-least-once**: after a crash, the batches after the last commit are replayed
 * and `fn` sees their ids again. Make the write idempotent by keying it on `batchId` (upsert, or
 * skip ids already written) to get exactly-once results.
 *
 * @param fn - receives the records and `{ batchId, batchTime }`.
 * @param options - `name` names the output in errors and logs.
 * @throws SluiceError `USER_FUNCTION_FAILED` (failing the batch) when `fn` throws or rejects.
 * @example
 * counts.pipe(foreachBatch(async (records, { batchId }) => {
 *   await db.query('insert into counts ... on conflict (batch_id, key) do nothing', ...);
 * }))
 */
export function foreachBatch<T>(
  fn: (records: readonly T[], info: BatchInfo) => Promise<void> | void,
  options: { readonly name?: string } = {},
): (stream: DStream<T>) => OutputOperation<T> {
  return (stream) => {
    const output: OutputOperation<T> = new OutputOperation<T>(
      'foreachBatch',
      stream,
      (batch, info) => callUserAsync(output.describe, () => fn(batch.toArray(), info)),
      options.name,
    );
    return output;
  };
}
