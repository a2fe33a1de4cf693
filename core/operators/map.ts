import type { DStream, Operator } from '../dstream.js';
import { userFunctionFailed } from '../operator-error.js';
import { NarrowDStream } from './narrow.js';

/**
 * Applies `fn` to every record.
 *
 * @param fn - a deterministic function of the record.
 * @returns an operator for `stream.pipe(...)`.
 * @throws SluiceError `USER_FUNCTION_FAILED` (failing the batch) when `fn` throws.
 * @example events.pipe(map((e) => e.amount))
 */
export function map<T, U>(fn: (record: T) => U): Operator<T, U> {
  return (stream: DStream<T>) =>
    new NarrowDStream<T, U>('map', stream, (operator) => (emit) => (record) => {
      let out: U;
      try {
        out = fn(record);
      } catch (error) {
        throw userFunctionFailed(operator, error);
      }
      emit(out);
    });
}
