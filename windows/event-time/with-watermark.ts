import { Batch, DStream, type DurationLike, type OnError, type Operator } from 'sluice';
import { definition, ErrorPolicy, parseDuration, type BatchContext, type Definition, type ObservedEventTimes } from 'sluice/extend';
import { watermarkedAncestors } from '../../core/internal.js';

/** Options of {@link withWatermark}. */
export interface WatermarkOptions {
  /**
   * After this long without records (processing time), the stream is idle: it stops holding back
   * the watermark of operators that read it together with other streams.
   */
  readonly idleTimeout?: DurationLike;
  /** A name for the operator in errors, logs, metrics and dead letters (default `withWatermark#id`). */
  readonly name?: string;
  /**
   * What to do with a record whose event time is not a finite number or whose extractor throws
   * (default: the context's `onError`, `'fail'` unless set): `'skip'` and `'deadLetter'` leave it
   * out of the stream.
   */
  readonly onError?: OnError;
}

/**
 * A stream whose records carry event times, with a watermark: the same records, each with its
 * event time (`Batch.eventTimes`, which per-record operators downstream carry on), and the
 * watermark `max event time seen - delay`, computed at the end of each batch and used by the next.
 * Each batch's progress event reports the count, min, max and mean of its records' event times
 * (`BatchProgress.eventTime`).
 */
export class WatermarkedDStream<T> extends DStream<T> {
  /** Reads a record's event time (ms). */
  readonly eventTime: (record: T) => number;
  readonly #parent: DStream<T>;
  readonly #policy: ErrorPolicy;

  constructor(parent: DStream<T>, eventTime: (record: T) => number, delay: number, idleTimeout: number | undefined, name: string | undefined, defined: Definition) {
    super({ kind: 'withWatermark', graph: parent.graph, parents: [parent], name });
    this.#parent = parent;
    this.eventTime = eventTime;
    this.#policy = new ErrorPolicy(this, defined);
    this.graph.watermarks.register(this.id, { delay, idleTimeout });
  }

  protected override async compute(bc: BatchContext): Promise<Batch<T> | undefined> {
    const batch = await this.#parent.getOrCompute(bc);
    if (batch === undefined) return undefined;
    const eventTime = this.eventTime;
    /** The records set aside, per partition: allocated only when there is one. */
    let dropped: Set<number>[] | undefined;
    // The batch's count, min, max and mean of event times, taken in the same pass. The sum is
    // taken relative to the first time, so that it stays exact for integer ms however many
    // records (and a replay gives the same mean).
    let count = 0;
    let base = 0;
    let min = Number.POSITIVE_INFINITY;
    let max = Number.NEGATIVE_INFINITY;
    let sum = 0;
    // Each record's time, carried downstream in the batch (see `Batch.eventTimes`).
    const times = batch.partitions.map((partition, p) => {
      const out = new Float64Array(partition.length);
      let kept = 0;
      // The figures in locals for the loop (not the closure's context), written back after it.
      let [c, b, lo, hi, s] = [count, base, min, max, sum];
      // One try around the loop: a bad record goes to the policy (which throws on 'fail') and
      // the loop resumes after it.
      for (let i = 0; i < partition.length; i++) {
        try {
          for (; i < partition.length; i++) {
            const t = eventTime(partition[i] as T);
            if (typeof t !== 'number' || !Number.isFinite(t)) {
              throw new TypeError(`the event time of a record must be a finite number of ms, got ${String(t)}; filter out or fix records without one before withWatermark, or set its onError option.`);
            }
            out[kept++] = t;
            if (c++ === 0) b = t;
            if (t < lo) lo = t;
            if (t > hi) hi = t;
            s += t - b;
          }
        } catch (error) {
          this.#policy.reject(bc.recordErrors, partition[i], error);
          ((dropped ??= batch.partitions.map(() => new Set()))[p] as Set<number>).add(i);
        }
      }
      [count, base, min, max, sum] = [c, b, lo, hi, s];
      return kept === out.length ? out : out.subarray(0, kept);
    });
    const observed: ObservedEventTimes | undefined = count === 0 ? undefined : { count, min, max, mean: base + sum / count };
    bc.observeEventTime(this.id, observed?.max ?? null, observed);
    if (dropped === undefined) return new Batch(batch.partitions, times);
    const without = dropped;
    return new Batch(
      batch.partitions.map((partition, p) => partition.filter((_record, i) => !(without[p] as Set<number>).has(i))),
      times,
    );
  }
}

/**
 * Gives a stream an event-time watermark (Structured Streaming's rule): at the end of each batch
 * `W = max event time seen - delay`; the next batch uses it; it never decreases. Operators that
 * read several watermarked streams use the minimum; a stream idle for `idleTimeout` stops holding
 * that minimum back. (With the context's `watermarkPolicy: 'max'`, they use the maximum instead.)
 * Event-time windows, event-time timers and event-time TTL follow it.
 *
 * @param eventTime - the record's event time in ms (a finite number; otherwise the record goes to
 * the `onError` policy: by default the batch fails).
 * @param delay - how late records may arrive: ms or `'10s'`.
 * @example events.pipe(withWatermark((e) => e.timestamp, '10s'))
 */
export function withWatermark<T>(eventTime: (record: T) => number, delay: DurationLike, options: WatermarkOptions = {}): Operator<T, T> {
  if (typeof eventTime !== 'function') throw new TypeError('withWatermark: pass a function that reads a record\'s event time in ms.');
  const delayMs = parseDuration(delay, 'withWatermark delay');
  const idle = options.idleTimeout === undefined ? undefined : parseDuration(options.idleTimeout, 'withWatermark idleTimeout');
  const defined = definition('withWatermark', options);
  return (stream) => new WatermarkedDStream(stream, eventTime, delayMs, idle, options.name, defined);
}

/** The `withWatermark` streams upstream of `stream` (itself included), nearest first (see the core's `watermarkedAncestors`). */
export function watermarkedStreams(stream: DStream<unknown>): WatermarkedDStream<unknown>[] {
  return watermarkedAncestors(stream).filter((node): node is WatermarkedDStream<unknown> => node instanceof WatermarkedDStream);
}
