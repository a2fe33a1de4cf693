import type { DStream, Operator } from '../dstream.js';
import { definition, type OnErrorOptions } from '../error-policy.js';
import type { Key, Pair } from '../key.js';
import { mapping } from './map.js';
import { NarrowDStream } from './narrow.js';

/**
 * Maps every record to a `[key, value]` pair, the start of a keyed chain. The tuple type is
 * inferred from `fn`, so `mapToPair((e) => [e.user, 1])` gives a `DStream<Pair<string, number>>`.
 *
 * @param options - a `name`, and `onError`: what to do with a record `fn` throws on (default:
 * the context's `onError`, `'fail'` unless set). A key that is not a {@link Key} is found by the
 * keyed operator downstream, under that operator's policy.
 * @throws SluiceError `USER_FUNCTION_FAILED` (failing the batch) when `fn` throws and the policy
 * is `'fail'`; TypeError at once for a bad `onError`.
 * @example clicks.pipe(mapToPair((c) => [c.page, 1]), reduceByKey((a, b) => a + b))
 */
export function mapToPair<T, K extends Key, V>(fn: (record: T) => readonly [K, V], options: OnErrorOptions = {}): Operator<T, Pair<K, V>> {
  return mapping<T, Pair<K, V>>('mapToPair', fn, options);
}

/**
 * Pairs every record with the key `fn` computes: `[fn(record), record]`.
 *
 * @param options - a `name`, and `onError`: what to do with a record `fn` throws on (default:
 * the context's `onError`, `'fail'` unless set).
 * @throws SluiceError `USER_FUNCTION_FAILED` (failing the batch) when `fn` throws and the policy
 * is `'fail'`; TypeError at once for a bad `onError`.
 * @example transactions.pipe(keyBy((t) => t.card))
 */
export function keyBy<T, K extends Key>(fn: (record: T) => K, options: OnErrorOptions = {}): Operator<T, Pair<K, T>> {
  const defined = definition('keyBy', options);
  return (stream: DStream<T>) =>
    new NarrowDStream<T, Pair<K, T>>(
      'keyBy',
      stream,
      (policy) => (emit, errors) => (record) => {
        let key: K;
        try {
          key = fn(record);
        } catch (error) {
          policy.reject(errors, record, error);
          return;
        }
        emit([key, record]);
      },
      { name: options.name, defined },
    );
}
