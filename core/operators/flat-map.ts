import type { DStream, Operator } from '../dstream.js';
import { userFunctionFailed } from '../operator-error.js';
import { NarrowDStream, type Emit } from './narrow.js';

/**
 * Replaces every record with the records `fn` returns (none, one or many).
 *
 * @throws SluiceError `USER_FUNCTION_FAILED` (failing the batch) when `fn` throws, returns
 * something that is not iterable, or returns an iterable (a generator) that throws.
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
      emitEach(out, operator, emit);
    });
}

/**
 * Emits every item of what a user function returned. Iterating a lazy iterable runs user code,
 * so what it throws is the function's failure; what `emit` (a downstream stage) throws is not.
 */
export function emitEach<U>(items: Iterable<U>, operator: string, emit: Emit<U>): void {
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
    throw userFunctionFailed(operator, error);
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
      throw userFunctionFailed(operator, error);
    }
  }
}
