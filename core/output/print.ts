import type { DStream } from '../dstream.js';
import { OutputOperation } from './output-operation.js';
import { formatRecord } from './format-record.js';

/** Options of {@link print}. */
export interface PrintOptions {
  /** Where lines go (default: standard output). */
  readonly out?: (line: string) => void;
}

/**
 * Prints the first `n` records of every batch under a header with the batch time, as Spark's
 * `print()` does, and `...` when the batch has more.
 *
 * @param n - how many records to print per batch (default 10).
 * @throws RangeError when `n` is not a non-negative integer.
 * @example counts.pipe(print(5))
 */
export function print<T>(n = 10, options: PrintOptions = {}): (stream: DStream<T>) => OutputOperation<T> {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`print: n must be a non-negative integer, got ${n}.`);
  const out = options.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  return (stream) =>
    new OutputOperation<T>('print', stream, (batch, { batchTime }) => {
      const rule = '-------------------------------------------';
      out(rule);
      out(`Time: ${batchTime} ms`);
      out(rule);
      const records = batch.toArray();
      for (const record of records.slice(0, n)) out(formatRecord(record));
      if (records.length > n) out('...');
      out('');
    });
}
