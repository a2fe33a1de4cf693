import type { DStream, Operator } from '../dstream.js';
import type { Key, Pair } from '../key.js';
import { userFunctionFailed } from '../operator-error.js';
import { NarrowDStream } from './narrow.js';

/**
 * Maps every record to a `[key, value]` pair, the start of a keyed chain. The tuple type is
 * inferred from `fn`, so `mapToPair((e) => [e.user, 1])` gives a `DStream<Pair<string, number>>`.
 *
 * @throws SluiceError `USER_FUNCTION_FAILED` (failing the batch) when `fn` throws.
 * @example clicks.pipe(mapToPair((c) => [c.page, 1]), reduceByKey((a, b) => a + b))
 */
export function mapToPair<T, K extends Key, V>(fn: (record: T) => readonly [K, V]): Operator<T, Pair<K, V>> {
  return (stream: DStream<T>) =>
    new NarrowDStream<T, Pair<K, V>>('mapToPair', stream, (operator) => (emit) => (record) => {
      let out: Pair<K, V>;
      try {
        out = fn(record);
      } catch (error) {
        throw userFunctionFailed(operator, error);
      }
      emit(out);
    });
}

/**
 * Pairs every record with the key `fn` computes: `[fn(record), record]`.
 *
 * @throws SluiceError `USER_FUNCTION_FAILED` (failing the batch) when `fn` throws.
 * @example transactions.pipe(keyBy((t) => t.card))
 */
export function keyBy<T, K extends Key>(fn: (record: T) => K): Operator<T, Pair<K, T>> {
  return (stream: DStream<T>) =>
    new NarrowDStream<T, Pair<K, T>>('keyBy', stream, (operator) => (emit) => (record) => {
      let key: K;
      try {
        key = fn(record);
      } catch (error) {
        throw userFunctionFailed(operator, error);
      }
      emit([key, record]);
    });
}
