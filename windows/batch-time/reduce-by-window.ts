import { Batch, type DStream, type DurationLike, type Operator } from 'sluice';
import { keepLastResults, userFunctionFailed } from 'sluice/extend';
import { parseWindowSpec, windowGeometry, type WindowGeometry } from './window-geometry.js';
import { WindowedDStream, type WindowSlide, type WindowStateOptions } from './windowed-dstream.js';

/**
 * Spark's `reduceByWindow`: at every slide time, the records of the window (see `window`) reduced
 * to one record with an associative function.
 *
 * Without `inverse`, every window is reduced from its batches' partial results, and an empty
 * window gives an empty batch. With `inverse` (which must undo `reduce`: `inverse(reduce(a, b), b)
 * = a`), each window is the previous one plus the batches that entered, minus those that left,
 * the way Spark computes it: once a record has been seen, every later window gives one record,
 * even when nothing is left in it (`0` for a sum); windows before the first record give an empty
 * batch. The held batch results and the running value are kept in the operator's state store, so a
 * checkpoint brings them back after a restart.
 *
 * **Memory.** One reduced value per batch of the window (length / batch interval of them), and
 * the running value with `inverse`.
 *
 * @param reduce - an associative (and, with `inverse`, commutative) function.
 * @param inverse - undoes `reduce`, or `undefined` to reduce every window in full.
 * @param length - the window length (ms or a duration such as `'30s'`); a multiple of the input's slide.
 * @param slide - how often a window is produced; a multiple of the input's slide.
 * @param options - `name` (the operator's stable name: its state is stored under it), `stateBackend`.
 * @throws RangeError when a duration is malformed or not positive (at once), or is not a multiple
 *   of the input's slide (when applied to a stream).
 * @throws SluiceError `USER_FUNCTION_FAILED` (failing the batch) when `reduce` or `inverse` throws.
 * @example
 * // Every 10 seconds, the total amount of the last minute.
 * amounts.pipe(reduceByWindow((a, b) => a + b, (a, b) => a - b, '1m', '10s'))
 */
export function reduceByWindow<T>(
  reduce: (a: T, b: T) => T,
  inverse: ((a: T, b: T) => T) | undefined,
  length: DurationLike,
  slide: DurationLike,
  options: WindowStateOptions = {},
): Operator<T, T> {
  const spec = parseWindowSpec('reduceByWindow', length, slide);
  return (stream: DStream<T>) =>
    new ReduceWindowDStream<T, T>('reduceByWindow', stream, windowGeometry(spec, stream), {
      prepare: (input, operator) => {
        const total = fold<T>(undefined, [input], reduce, operator);
        return total === undefined ? Batch.empty<T>() : Batch.of([total.value]);
      },
      reduce,
      inverse,
    }, options);
}

/** How a {@link ReduceWindowDStream} reduces. */
export interface ReduceWindowFunctions<I, T> {
  /** Reduces one input batch to a batch of at most one value. */
  readonly prepare: (input: Batch<I>, operator: string) => Batch<T>;
  readonly reduce: (a: T, b: T) => T;
  readonly inverse: ((a: T, b: T) => T) | undefined;
}

/** The stream behind `reduceByWindow` and `countByWindow`: one value per window. */
export class ReduceWindowDStream<I, T> extends WindowedDStream<I, T, T> {
  readonly #fns: ReduceWindowFunctions<I, T>;
  /** The previous window's value (with an inverse only); `undefined` before the first record. */
  #previous: { readonly value: T } | undefined;

  constructor(kind: string, input: DStream<I>, geometry: WindowGeometry, fns: ReduceWindowFunctions<I, T>, options: WindowStateOptions) {
    super(kind, input, geometry, options, fns.inverse !== undefined);
    keepLastResults(this, 'records');
    this.#fns = fns;
  }

  protected override prepare(input: Batch<I>): Batch<T> {
    return this.#fns.prepare(input, this.describe);
  }

  protected override horizon(time: number, lastSlideTime: number): number {
    // With an inverse, the batches that leave before the next slide are taken out at that slide.
    return this.#fns.inverse === undefined ? super.horizon(time, lastSlideTime) : lastSlideTime - this.length;
  }

  protected override slide(_bc: unknown, time: number): WindowSlide<T> {
    const { reduce, inverse } = this.#fns;
    const operator = this.describe;
    if (inverse === undefined) {
      return { batch: toBatch(fold(undefined, this.buffer.between(time - this.length, time), reduce, operator)) };
    }
    const previousTime = time - this.slideDuration;
    let current = fold(this.#previous, this.buffer.between(previousTime, time), reduce, operator);
    const left = fold(undefined, this.buffer.between(previousTime - this.length, time - this.length), reduce, operator);
    if (current !== undefined && left !== undefined) {
      try {
        current = { value: inverse(current.value, left.value) };
      } catch (error) {
        throw userFunctionFailed(operator, error);
      }
    }
    return {
      batch: toBatch(current),
      commit: () => {
        this.#previous = current;
      },
      state: current === undefined ? null : [current.value],
    };
  }

  protected override restoreState(state: unknown): void {
    this.#previous = state === null ? undefined : { value: (state as [T])[0] };
  }
}

/** Reduces every record of `batches` into `start`; `undefined` when there is nothing at all. */
function fold<T>(start: { readonly value: T } | undefined, batches: readonly Batch<T>[], reduce: (a: T, b: T) => T, operator: string): { readonly value: T } | undefined {
  let seen = start !== undefined;
  let acc = start?.value as T;
  try {
    for (const batch of batches) {
      for (const partition of batch.partitions) {
        for (let i = 0; i < partition.length; i++) {
          acc = seen ? reduce(acc, partition[i] as T) : (partition[i] as T);
          seen = true;
        }
      }
    }
  } catch (error) {
    throw userFunctionFailed(operator, error);
  }
  return seen ? { value: acc } : undefined;
}

function toBatch<T>(result: { readonly value: T } | undefined): Batch<T> {
  return result === undefined ? Batch.empty<T>() : Batch.of([result.value]);
}
