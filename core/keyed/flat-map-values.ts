import type { DStream, Operator } from '../dstream.js';
import type { Key, Pair } from '../key.js';
import { userFunctionFailed } from '../operator-error.js';
import { emitEach } from '../operators/flat-map.js';
import { NarrowDStream } from '../operators/narrow.js';

/**
 * Replaces the value of every pair with each value `fn` returns, keeping the key.
 *
 * @throws SluiceError `USER_FUNCTION_FAILED` (failing the batch) when `fn` throws, returns
 * something that is not iterable, or returns an iterable (a generator) that throws.
 * @example sentences.pipe(flatMapValues((text) => text.split(' ')))
 */
export function flatMapValues<K extends Key, V, W>(fn: (value: V) => Iterable<W>): Operator<Pair<K, V>, Pair<K, W>> {
  return (stream: DStream<Pair<K, V>>) =>
    new NarrowDStream<Pair<K, V>, Pair<K, W>>('flatMapValues', stream, (operator) => (emit) => (pair) => {
      let out: Iterable<W>;
      try {
        out = fn(pair[1]);
      } catch (error) {
        throw userFunctionFailed(operator, error);
      }
      const key = pair[0];
      if (Array.isArray(out)) {
        for (let i = 0; i < out.length; i++) emit([key, out[i] as W]);
      } else {
        emitEach(out, operator, (w) => {
          emit([key, w]);
        });
      }
    });
}
