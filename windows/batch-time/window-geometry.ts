import { parsePositiveDuration } from 'sluice/extend';
import type { DStream, Duration, DurationLike } from 'sluice';

/** A batch-time window's length and slide, checked against the stream it windows. */
export interface WindowGeometry {
  /** How far back a window reaches: the window at batch time `t` covers `(t - length, t]`. */
  readonly length: Duration;
  /** How often a window is produced: at the batch times `t` where `t - zeroTime` is a multiple of it. */
  readonly slide: Duration;
}

/** A window's durations as the user gave them (quoted in errors) and as milliseconds. */
export interface WindowSpec {
  readonly kind: string;
  readonly length: Duration;
  /** `undefined`: the input's own slide (the batch interval for an ordinary stream). */
  readonly slide: Duration | undefined;
  readonly given: { readonly length: DurationLike; readonly slide: DurationLike | undefined };
}

/**
 * Parses a window's length and slide when the operator is created, so a malformed duration
 * throws at once.
 *
 * @throws RangeError when a duration is malformed, zero or negative.
 */
export function parseWindowSpec(kind: string, length: DurationLike, slide: DurationLike | undefined): WindowSpec {
  return {
    kind,
    length: parsePositiveDuration(length, `${kind} window length`),
    slide: slide === undefined ? undefined : parsePositiveDuration(slide, `${kind} slide`),
    given: { length, slide },
  };
}

/**
 * Checks a window against the stream it is applied to: both durations must be multiples of the
 * input's slide (the batch interval, or the slide of a windowed input), as in Spark.
 *
 * @throws RangeError quoting the values when a duration is not such a multiple.
 */
export function windowGeometry(spec: WindowSpec, input: DStream<unknown>): WindowGeometry {
  const slide = spec.slide ?? input.slideDuration;
  checkMultiple(spec, 'window length', spec.length, spec.given.length, input);
  checkMultiple(spec, 'slide', slide, spec.given.slide, input);
  return { length: spec.length, slide };
}

function checkMultiple(spec: WindowSpec, what: string, ms: Duration, given: DurationLike | undefined, input: DStream<unknown>): void {
  const unit = input.slideDuration;
  if (ms % unit === 0) return;
  const quoted = given === undefined || given === ms ? `${ms} ms` : `${quote(given)} (${ms} ms)`;
  const of = unit === input.graph.batchInterval ? `the batch interval (${unit} ms)` : `the slide of its input ${input.describe} (${unit} ms)`;
  throw new RangeError(`${spec.kind}: the ${what} ${quoted} must be a multiple of ${of}; a window holds whole batches. Use a multiple such as ${Math.max(1, Math.round(ms / unit)) * unit} ms.`);
}

function quote(value: DurationLike): string {
  return typeof value === 'string' ? `'${value}'` : typeof value === 'number' ? String(value) : JSON.stringify(value);
}
