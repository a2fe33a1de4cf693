import type { DStream, Operator } from '../dstream.js';
import { definition, type OnErrorOptions } from '../error-policy.js';
import type { Key, Pair } from '../key.js';
import { emitEach } from '../operators/flat-map.js';
import { NarrowDStream } from '../operators/narrow.js';

/**
 * Replaces the value of every pair with each value `fn` returns, keeping the key.
 *
 * @param options - a `name`, and `onError`: what to do with a pair `fn` throws on (default: the
 * context's `onError`, `'fail'` unless set); as for `flatMap`, a lazy iterable that throws
 * midway has emitted the values before the throw.
 * @throws SluiceError `USER_FUNCTION_FAILED` (failing the batch, when the policy is `'fail'`) when
 * `fn` throws, returns something that is not iterable, or returns an iterable (a generator) that
 * throws; TypeError at once for a bad `onError`.
 * @example sentences.pipe(flatMapValues((text) => text.split(' ')))
 */
export function flatMapValues<K extends Key, V, W>(fn: (value: V) => Iterable<W>, options: OnErrorOptions = {}): Operator<Pair<K, V>, Pair<K, W>> {
  const defined = definition('flatMapValues', options);
  return (stream: DStream<Pair<K, V>>) =>
    new NarrowDStream<Pair<K, V>, Pair<K, W>>(
      'flatMapValues',
      stream,
      (policy) => (emit, errors) => (pair) => {
        let out: Iterable<W>;
        try {
          out = fn(pair[1]);
        } catch (error) {
          policy.reject(errors, pair, error);
          return;
        }
        const key = pair[0];
        if (Array.isArray(out)) {
          for (let i = 0; i < out.length; i++) emit([key, out[i] as W]);
        } else {
          emitEach(
            out,
            (w) => {
              emit([key, w]);
            },
            policy,
            errors,
            pair,
          );
        }
      },
      { name: options.name, defined },
    );
}
