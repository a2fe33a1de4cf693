import type { DStream, Operator } from '../dstream.js';
import { definition, type OnErrorOptions } from '../error-policy.js';
import { NarrowDStream } from './narrow.js';

/**
 * Keeps the records for which `predicate` returns true. A type-guard predicate narrows the type.
 *
 * @param options - a `name`, and `onError`: what to do with a record `predicate` throws on
 * (default: the context's `onError`, `'fail'` unless set).
 * @throws SluiceError `USER_FUNCTION_FAILED` (failing the batch) when `predicate` throws and the
 * policy is `'fail'`; TypeError at once for a bad `onError`.
 * @example events.pipe(filter((e) => e.amount > 100))
 */
export function filter<T, S extends T>(predicate: (record: T) => record is S, options?: OnErrorOptions): Operator<T, S>;
export function filter<T>(predicate: (record: T) => boolean, options?: OnErrorOptions): Operator<T, T>;
export function filter<T>(predicate: (record: T) => boolean, options: OnErrorOptions = {}): Operator<T, T> {
  const defined = definition('filter', options);
  return (stream: DStream<T>) =>
    new NarrowDStream<T, T>(
      'filter',
      stream,
      (policy) => (emit, errors) => (record) => {
        let keep: boolean;
        try {
          keep = predicate(record);
        } catch (error) {
          policy.reject(errors, record, error);
          return;
        }
        if (keep) emit(record);
      },
      { name: options.name, defined },
    );
}
