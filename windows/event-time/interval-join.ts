import type { DStream, Key, Pair } from 'sluice';
import { eventTimeBreak } from '../../core/internal.js';
import { definition, parseDuration } from 'sluice/extend';
import { IntervalJoinDStream } from './interval-join-dstream.js';
import { checkJoinOptions, type EventTimeJoinOptions, type IntervalBounds, type JoinedValue, type JoinType } from './join-options.js';
import { watermarkedStreams } from './with-watermark.js';

/**
 * Joins two keyed event-time streams by key and a time bound (Flink's interval join; Structured
 * Streaming's stream-stream join with a time-range condition): a left record `[k, l]` at event
 * time `tl` and a right record `[k, r]` at `tr` join when `tl + lowerBound <= tr <= tl +
 * upperBound`, whichever batch each arrives in. Rows come as `[k, [l, r]]` (`'leftSemi'`:
 * `[k, l]`); an outer side's record that matched nothing comes as `[k, [l, null]]` or
 * `[k, [null, r]]`: `null`, never `undefined`, is the "no match" marker, so it cannot be taken
 * for a value that is missing.
 *
 * **Watermark and state.** The operator's watermark `W` is its inputs' combined one (the minimum
 * of both sides' by default, an idle side left out; see `withWatermark`), never decreasing; with
 * `h = W - allowedLateness`, a record below `h` is late (dropped and counted, or the side
 * output). Each side buffers its records until no record at or above `h` on the other side can
 * match them: a left record until `tl + upperBound < h`, a right one until `tr - lowerBound < h`
 * (Structured Streaming's state-cleanup rule). Evicted unmatched records of an outer side are
 * emitted then, in the same batch, so an outer row comes exactly when the watermark allows it.
 * Output is append only: a row is never retracted. `'leftSemi'` emits a left record once, at its
 * first match, and does not buffer it after.
 *
 * **Order of the rows of a batch** (the same on every replay): first the batch's left records in
 * arrival order (partition by partition), each with its matches among the right records buffered
 * from earlier batches, in their arrival order; then the batch's right records in arrival order,
 * each with its matches among the buffered left records (this batch's included), in arrival
 * order; then the outer rows, left side first, each side's by event time, then key (in the key
 * codec's order), then arrival.
 *
 * **Memory.** Every buffered record (its value and time) of both sides, on every backend, in
 * memory; LevelDB stores a row per side and key. A watermark that stops advancing (a stalled
 * source without an idle timeout) keeps every record from then on; the progress event's
 * `stateRows` counts the buffered records.
 *
 * Each record is timed by the event time it carries from `withWatermark` (through `map`,
 * `filter`, `flatMap`, `mapToPair`, `keyBy`, `mapValues`, `flatMapValues` and `union`).
 *
 * @param other - the right side, a keyed stream of the same context.
 * @param bounds - `lowerBound` and `upperBound`: ms (negative for before) or durations (`'-5s'`).
 * @throws TypeError at once when a side has no `withWatermark` upstream or an operator between it
 * and the join cannot carry the event time, for a bad join type or late policy; RangeError when
 * a bound is not a finite number of ms or a duration, or `lowerBound > upperBound`; SluiceError
 * `USER_FUNCTION_FAILED` (failing the batch) when a key is not a key under `onError: 'fail'`;
 * `STATE_IO_FAILED` or `STATE_CORRUPT` naming the operator when its store cannot read or write.
 * @example
 * authorizations.pipe(intervalJoin(settlements, { lowerBound: 0, upperBound: '10m' }, { type: 'leftOuter' }))
 * // DStream<Pair<string, [Authorization, Settlement | null]>>
 */
export function intervalJoin<K extends Key, L, R, J extends JoinType = 'inner'>(
  other: DStream<Pair<K, R>>,
  bounds: IntervalBounds,
  options: EventTimeJoinOptions<J> = {},
): (stream: DStream<Pair<K, L>>) => IntervalJoinDStream<K, L, R, JoinedValue<L, R, J>> {
  if (typeof bounds !== 'object' || bounds === null) throw new TypeError("intervalJoin: pass the bounds as { lowerBound, upperBound }, such as { lowerBound: '-5s', upperBound: '5s' }.");
  const lower = parseBound(bounds.lowerBound, 'intervalJoin lowerBound');
  const upper = parseBound(bounds.upperBound, 'intervalJoin upperBound');
  if (lower > upper) throw new RangeError(`intervalJoin: lowerBound (${lower} ms) is above upperBound (${upper} ms), so nothing could ever match; swap them.`);
  const { type, late, lateness } = checkJoinOptions('intervalJoin', options, parseDuration);
  const defined = definition('intervalJoin', options);
  return (stream) => {
    checkTimed('intervalJoin', stream, 'left');
    checkTimed('intervalJoin', other, 'right');
    return new IntervalJoinDStream<K, L, R, JoinedValue<L, R, J>>(stream, other, { type, lower, upper, late, lateness }, { name: options.name, stateBackend: options.stateBackend, defined });
  };
}

/** A bound in ms: a finite number, or a duration, negated by a leading `-`. */
function parseBound(bound: number | string, what: string): number {
  if (typeof bound === 'number') {
    if (!Number.isFinite(bound)) throw new RangeError(`${what}: ${bound} is not a finite number of ms.`);
    return bound;
  }
  if (typeof bound === 'string' && bound.trim().startsWith('-')) return -(parseDuration(bound.trim().slice(1), what) as number);
  return parseDuration(bound, what);
}

/**
 * Checks that the records of `stream` carry an event time from `withWatermark`.
 *
 * @throws TypeError naming the side and what to change.
 */
export function checkTimed(kind: string, stream: DStream<unknown>, side: 'left' | 'right'): void {
  if (watermarkedStreams(stream).length === 0) throw new TypeError(`${kind}: the ${side} stream has no watermark upstream; apply withWatermark((record) => eventTime, delay) to it first.`);
  const broken = eventTimeBreak(stream);
  if (broken !== undefined) {
    throw new TypeError(
      `${kind}: the records of the ${side} stream (${broken.describe}) do not carry the event time withWatermark gave them (only per-record operators such as map, filter, flatMap, mapToPair, keyBy, mapValues, flatMapValues, and union carry it); apply withWatermark after ${broken.describe}.`,
    );
  }
}
