import type { DStream, Operator } from '../dstream.js';
import { userFunctionFailed } from '../operator-error.js';
import { NarrowDStream } from './narrow.js';

/**
 * Replaces every record with the records `fn` returns (none, one or many).
 *
 * @throws SluiceError `USER_FUNCTION_FAILED` (failing the batch) when `fn` throws.
 * @example lines.pipe(flatMap((line) => line.split(' ')))
 */
export function flatMap<T, U>(fn: (record: T) => Iterable<U>): Operator<T, U> {
  return (stream: DStream<T>) =>
    new NarrowDStream<T, U>('flatMap', stream, (operator) => (emit) => (record) => {
      let out: Iterable<U>;
      try {
        out = fn(record);
      } catch (error) {
        throw userFunctionFailed(operator, error);
      }
      if (Array.isArray(out)) {
        for (let i = 0; i < out.length; i++) emit(out[i] as U);
      } else {
        for (const u of out) emit(u);
      }
    });
}
