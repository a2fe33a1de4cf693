import type { DStream, Operator } from '../dstream.js';
import { definition, type OnErrorOptions } from '../error-policy.js';
import type { Key, Pair } from '../key.js';
import { NarrowDStream } from '../operators/narrow.js';

/**
 * Applies `fn` to the value of every pair, keeping the key.
 *
 * @param options - a `name`, and `onError`: what to do with a pair `fn` throws on (default: the
 * context's `onError`, `'fail'` unless set).
 * @throws SluiceError `USER_FUNCTION_FAILED` (failing the batch) when `fn` throws and the policy
 * is `'fail'`; TypeError at once for a bad `onError`.
 * @example counts.pipe(mapValues((n) => n * 2))
 */
export function mapValues<K extends Key, V, W>(fn: (value: V) => W, options: OnErrorOptions = {}): Operator<Pair<K, V>, Pair<K, W>> {
  const defined = definition('mapValues', options);
  return (stream: DStream<Pair<K, V>>) =>
    new NarrowDStream<Pair<K, V>, Pair<K, W>>(
      'mapValues',
      stream,
      (policy) => (emit, errors) => (pair) => {
        let out: W;
        try {
          out = fn(pair[1]);
        } catch (error) {
          policy.reject(errors, pair, error);
          return;
        }
        emit([pair[0], out]);
      },
      { name: options.name, defined },
    );
}
