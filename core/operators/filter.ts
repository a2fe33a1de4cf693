import type { DStream, Operator } from '../dstream.js';
import { userFunctionFailed } from '../operator-error.js';
import { NarrowDStream } from './narrow.js';

/**
 * Keeps the records for which `predicate` returns true. A type-guard predicate narrows the type.
 *
 * @throws SluiceError `USER_FUNCTION_FAILED` (failing the batch) when `predicate` throws.
 * @example events.pipe(filter((e) => e.amount > 100))
 */
export function filter<T, S extends T>(predicate: (record: T) => record is S): Operator<T, S>;
export function filter<T>(predicate: (record: T) => boolean): Operator<T, T>;
export function filter<T>(predicate: (record: T) => boolean): Operator<T, T> {
  return (stream: DStream<T>) =>
    new NarrowDStream<T, T>('filter', stream, (operator) => (emit) => (record) => {
      let keep: boolean;
      try {
        keep = predicate(record);
      } catch (error) {
        throw userFunctionFailed(operator, error);
      }
      if (keep) emit(record);
    });
}
