import { DStream, type Batch, type DurationLike, type Operator } from 'sluice';
import { parseDuration, userFunctionFailed, type BatchContext } from 'sluice/extend';
import { watermarkedAncestors } from '../../core/internal.js';

/** Options of {@link withWatermark}. */
export interface WatermarkOptions {
  /**
   * After this long without records (processing time), the stream is idle: it stops holding back
   * the watermark of operators that read it together with other streams.
   */
  readonly idleTimeout?: DurationLike;
}

/**
 * A stream whose records carry event times, with a watermark: the same records, and the
 * watermark `max event time seen - delay`, computed at the end of each batch and used by the next.
 */
export class WatermarkedDStream<T> extends DStream<T> {
  /** Reads a record's event time (ms). */
  readonly eventTime: (record: T) => number;
  readonly #parent: DStream<T>;

  constructor(parent: DStream<T>, eventTime: (record: T) => number, delay: number, idleTimeout: number | undefined) {
    super({ kind: 'withWatermark', graph: parent.graph, parents: [parent] });
    this.#parent = parent;
    this.eventTime = eventTime;
    this.graph.watermarks.register(this.id, { delay, idleTimeout });
  }

  protected override async compute(bc: BatchContext): Promise<Batch<T> | undefined> {
    const batch = await this.#parent.getOrCompute(bc);
    if (batch === undefined) return undefined;
    let max: number | null = null;
    const eventTime = this.eventTime;
    try {
      for (const partition of batch.partitions) {
        for (let i = 0; i < partition.length; i++) {
          const t = eventTime(partition[i] as T);
          if (typeof t !== 'number' || !Number.isFinite(t)) {
            throw new TypeError(`the event time of a record must be a finite number of ms, got ${String(t)}; filter out or fix records without one before withWatermark.`);
          }
          if (max === null || t > max) max = t;
        }
      }
    } catch (error) {
      throw userFunctionFailed(this.describe, error);
    }
    bc.observeEventTime(this.id, max);
    return batch;
  }
}

/**
 * Gives a stream an event-time watermark (Structured Streaming's rule): at the end of each batch
 * `W = max event time seen - delay`; the next batch uses it; it never decreases. Operators that
 * read several watermarked streams use the minimum; a stream idle for `idleTimeout` stops holding
 * that minimum back. Event-time windows, event-time timers and event-time TTL follow it.
 *
 * @param eventTime - the record's event time in ms (a finite number; otherwise the batch fails).
 * @param delay - how late records may arrive: ms or `'10s'`.
 * @example events.pipe(withWatermark((e) => e.timestamp, '10s'))
 */
export function withWatermark<T>(eventTime: (record: T) => number, delay: DurationLike, options: WatermarkOptions = {}): Operator<T, T> {
  if (typeof eventTime !== 'function') throw new TypeError('withWatermark: pass a function that reads a record\'s event time in ms.');
  const delayMs = parseDuration(delay, 'withWatermark delay');
  const idle = options.idleTimeout === undefined ? undefined : parseDuration(options.idleTimeout, 'withWatermark idleTimeout');
  return (stream) => new WatermarkedDStream(stream, eventTime, delayMs, idle);
}

/** The `withWatermark` streams upstream of `stream` (itself included), nearest first (see the core's `watermarkedAncestors`). */
export function watermarkedStreams(stream: DStream<unknown>): WatermarkedDStream<unknown>[] {
  return watermarkedAncestors(stream).filter((node): node is WatermarkedDStream<unknown> => node instanceof WatermarkedDStream);
}
