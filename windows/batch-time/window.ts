import { Batch, type DStream, type DurationLike, type Operator } from 'sluice';
import { keepLastResults, type BatchContext } from 'sluice/extend';
import { parseWindowSpec, windowGeometry, type WindowGeometry } from './window-geometry.js';
import { WindowedDStream, type WindowSlide, type WindowStateOptions } from './windowed-dstream.js';

/**
 * Spark's `window`: a stream whose batch at every slide time `t` holds the records of the input's
 * batches with times in `(t - length, t]`, oldest batch first, and which produces nothing between
 * slides. Before a whole window has passed, a window holds the batches that exist (as in Spark).
 * The batch keeps the input batches' partitions, one after another (no shuffle).
 *
 * Both durations must be multiples of the input's slide (the batch interval for an ordinary
 * stream); a windowed stream can be windowed again when they are.
 *
 * **Memory.** The batches of one window, length / batch interval of them, held in memory and
 * kept in the operator's state store (so a checkpoint brings them back after a restart); a batch
 * leaves once no later window needs it. Bound it with the window length and `maxRecordsPerBatch`.
 *
 * @param length - the window length: milliseconds or a duration such as `'30s'` or `'PT1M'`.
 * @param slide - how often a window is produced (default: the input's slide, i.e. every batch).
 * @param options - `name` (the operator's stable name: its held batches are stored under it), `stateBackend`.
 * @throws RangeError when a duration is malformed or not positive (at once), or is not a multiple
 *   of the input's slide (when applied to a stream).
 * @example
 * // Every 10 seconds, the clicks of the last minute.
 * clicks.pipe(window('1m', '10s'), foreachBatch((records) => report(records)))
 */
export function window<T>(length: DurationLike, slide?: DurationLike, options: WindowStateOptions = {}): Operator<T, T> {
  const spec = parseWindowSpec('window', length, slide);
  return (stream: DStream<T>) => new WindowDStream(stream, windowGeometry(spec, stream), options);
}

class WindowDStream<T> extends WindowedDStream<T, T, T> {
  constructor(input: DStream<T>, geometry: WindowGeometry, options: WindowStateOptions) {
    super('window', input, geometry, options);
    keepLastResults(this, 'records');
  }

  protected override prepare(input: Batch<T>): Batch<T> {
    return input;
  }

  protected override slide(_bc: BatchContext, time: number): WindowSlide<T> {
    const batches = this.buffer.between(time - this.length, time);
    if (batches.length === 1) return { batch: batches[0] as Batch<T> };
    return { batch: batches.length === 0 ? Batch.empty<T>() : new Batch(batches.flatMap((b) => b.partitions)) };
  }
}
