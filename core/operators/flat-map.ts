import type { DStream, Operator } from '../dstream.js';
import { definition, type ErrorPolicy, type OnErrorOptions, type RecordErrors } from '../error-policy.js';
import { NarrowDStream, type Emit } from './narrow.js';

/**
 * Replaces every record with the records `fn` returns (none, one or many).
 *
 * @param options - a `name`, and `onError`: what to do with a record `fn` throws on (default:
 * the context's `onError`, `'fail'` unless set). A lazy iterable that throws midway has emitted
 * the items before the throw; a skipped record loses only the rest.
 * @throws SluiceError `USER_FUNCTION_FAILED` (failing the batch, when the policy is `'fail'`) when
 * `fn` throws, returns something that is not iterable, or returns an iterable (a generator) that
 * throws; TypeError at once for a bad `onError`.
 * @example lines.pipe(flatMap((line) => line.split(' ')))
 */
export function flatMap<T, U>(fn: (record: T) => Iterable<U>, options: OnErrorOptions = {}): Operator<T, U> {
  const defined = definition('flatMap', options);
  return (stream: DStream<T>) =>
    new NarrowDStream<T, U>(
      'flatMap',
      stream,
      (policy) => (emit, errors) => (record) => {
        let out: Iterable<U>;
        try {
          out = fn(record);
        } catch (error) {
          policy.reject(errors, record, error);
          return;
        }
        emitEach(out, emit, policy, errors, record);
      },
      { name: options.name, defined },
    );
}

/**
 * Emits every item of what a user function returned for `record`. Iterating a lazy iterable runs
 * user code, so what it throws is the function's failure (handed to `policy`); what `emit` (a
 * downstream stage) throws is not.
 */
export function emitEach<U>(items: Iterable<U>, emit: Emit<U>, policy: ErrorPolicy, errors: RecordErrors, record: unknown): void {
  if (Array.isArray(items)) {
    for (let i = 0; i < items.length; i++) emit(items[i] as U);
    return;
  }
  let iterator: Iterator<U>;
  let next: IteratorResult<U>;
  try {
    iterator = items[Symbol.iterator]();
    next = iterator.next();
  } catch (error) {
    policy.reject(errors, record, error);
    return;
  }
  while (next.done !== true) {
    try {
      emit(next.value);
    } catch (error) {
      iterator.return?.();
      throw error;
    }
    try {
      next = iterator.next();
    } catch (error) {
      policy.reject(errors, record, error);
      return;
    }
  }
}
