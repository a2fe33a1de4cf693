import type { DStream, Operator } from '../dstream.js';
import { definition, type OnErrorOptions } from '../error-policy.js';
import { NarrowDStream } from './narrow.js';

/**
 * Applies `fn` to every record.
 *
 * @param fn - a deterministic function of the record.
 * @param options - a `name`, and `onError`: what to do with a record `fn` throws on (default:
 * the context's `onError`, `'fail'` unless set).
 * @returns an operator for `stream.pipe(...)`.
 * @throws SluiceError `USER_FUNCTION_FAILED` (failing the batch) when `fn` throws and the policy
 * is `'fail'`; TypeError at once for a bad `onError`.
 * @example events.pipe(map((e) => e.amount))
 * @example lines.pipe(map((l) => JSON.parse(l) as Event, { onError: 'deadLetter' }))
 */
export function map<T, U>(fn: (record: T) => U, options: OnErrorOptions = {}): Operator<T, U> {
  return mapping('map', fn, options);
}

/** The operator `map` is, under another kind (`mapToPair` is one): `fn` per record, under the error policy. */
export function mapping<T, U>(kind: string, fn: (record: T) => U, options: OnErrorOptions): Operator<T, U> {
  const defined = definition(kind, options);
  return (stream: DStream<T>) =>
    new NarrowDStream<T, U>(
      kind,
      stream,
      (policy) => (emit, errors) => (record) => {
        let out: U;
        try {
          out = fn(record);
        } catch (error) {
          policy.reject(errors, record, error);
          return;
        }
        emit(out);
      },
      { name: options.name, defined },
    );
}
