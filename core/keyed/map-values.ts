import type { DStream, Operator } from '../dstream.js';
import type { Key, Pair } from '../key.js';
import { userFunctionFailed } from '../operator-error.js';
import { NarrowDStream } from '../operators/narrow.js';

/**
 * Applies `fn` to the value of every pair, keeping the key.
 *
 * @throws SluiceError `USER_FUNCTION_FAILED` (failing the batch) when `fn` throws.
 * @example counts.pipe(mapValues((n) => n * 2))
 */
export function mapValues<K extends Key, V, W>(fn: (value: V) => W): Operator<Pair<K, V>, Pair<K, W>> {
  return (stream: DStream<Pair<K, V>>) =>
    new NarrowDStream<Pair<K, V>, Pair<K, W>>('mapValues', stream, (operator) => (emit) => (pair) => {
      let out: W;
      try {
        out = fn(pair[1]);
      } catch (error) {
        throw userFunctionFailed(operator, error);
      }
      emit([pair[0], out]);
    });
}
