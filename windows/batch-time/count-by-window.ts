import { Batch, type DStream, type DurationLike, type Operator } from 'sluice';
import { ReduceWindowDStream } from './reduce-by-window.js';
import { parseWindowSpec, windowGeometry } from './window-geometry.js';
import type { WindowStateOptions } from './windowed-dstream.js';

const add = (a: number, b: number): number => a + b;
const subtract = (a: number, b: number): number => a - b;

/**
 * Spark's `countByWindow`: at every slide time, the number of records in the window (see
 * `window`). Like Spark, which counts with `reduceByWindow(+, -)`, it gives an empty batch for
 * the windows before the first record, and from then on one count per window, `0` included.
 *
 * **Memory.** One count per batch of the window (length / batch interval of them) and the
 * running count, kept in the operator's state store.
 *
 * @param length - the window length (ms or a duration such as `'30s'`); a multiple of the input's slide.
 * @param slide - how often a window is produced; a multiple of the input's slide.
 * @param options - `name` (the operator's stable name: its state is stored under it), `stateBackend`.
 * @throws RangeError when a duration is malformed or not positive (at once), or is not a multiple
 *   of the input's slide (when applied to a stream).
 * @example
 * // Every 10 seconds, how many requests arrived in the last minute.
 * requests.pipe(countByWindow('1m', '10s'), print())
 */
export function countByWindow<T>(length: DurationLike, slide: DurationLike, options: WindowStateOptions = {}): Operator<T, number> {
  const spec = parseWindowSpec('countByWindow', length, slide);
  return (stream: DStream<T>) =>
    new ReduceWindowDStream<T, number>('countByWindow', stream, windowGeometry(spec, stream), {
      prepare: (input) => {
        const size = input.size;
        return size === 0 ? Batch.empty<number>() : Batch.of([size]);
      },
      reduce: add,
      inverse: subtract,
    }, options);
}
