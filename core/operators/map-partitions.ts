import { Batch } from '../batch.js';
import type { DStream, Operator } from '../dstream.js';
import { defineTaskStep } from '../scheduler/task-step.js';
import { callUser, DerivedDStream } from './derived.js';

/**
 * Replaces every partition with the records `fn` returns for it: for per-partition set-up (a
 * parser, a lookup table) or output that depends on a whole partition.
 *
 * @param fn - receives the partition's records and its index.
 * @throws SluiceError `USER_FUNCTION_FAILED` (failing the batch) when `fn` throws.
 * @example lines.pipe(mapPartitions((records) => { const parse = makeParser(); return records.map(parse); }))
 */
export function mapPartitions<T, U>(fn: (records: readonly T[], partitionIndex: number) => Iterable<U>): Operator<T, U> {
  return (stream: DStream<T>) => {
    const node: DerivedDStream<U> = new DerivedDStream<U>('mapPartitions', [stream], async ([input], bc) => {
      const partitions = (input as Batch<T>).partitions;
      return new Batch(await bc.executor.runStage(step, partitions.map((records, index) => ({ records, index })), bc));
    });
    const operator = node.describe;
    const step = defineTaskStep(node, 'partition', ({ records, index }: { readonly records: readonly T[]; readonly index: number }) => {
      const out = callUser(operator, () => fn(records, index));
      return Array.isArray(out) ? (out as U[]) : callUser(operator, () => Array.from(out));
    });
    return node;
  };
}

/**
 * Turns every partition into a single record: the array of its records (Spark's `glom`).
 *
 * **Memory.** Nothing between batches. Within a batch, each record is a copy of its partition's
 * array: one whole partition in one record, bounded by the batch (`maxRecordsPerBatch`).
 *
 * @example stream.pipe(glom()) // DStream<T[]>, one record per partition
 */
export function glom<T>(): Operator<T, T[]> {
  return (stream: DStream<T>) =>
    new DerivedDStream<T[]>('glom', [stream], ([input]) => new Batch((input as Batch<T>).partitions.map((p) => [[...p]])));
}
