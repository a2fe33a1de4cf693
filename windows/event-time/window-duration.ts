import { parseDuration, parsePositiveDuration } from 'sluice/extend';
import type { DurationLike } from 'sluice';

/**
 * Parses the size or slide of a time window: a positive whole number of milliseconds, so window
 * and pane boundaries are exact integers and panes (the gcd of size and slide) exist.
 *
 * @param what - names the argument in the error (`'tumbling window size'`).
 * @throws RangeError quoting the input when it is not a duration, is zero, or is not a whole
 *   (safe integer) number of milliseconds.
 */
export function parseWindowDuration(input: DurationLike, what: string): number {
  return wholeMillis(parsePositiveDuration(input, what), input, what);
}

/**
 * Parses a window offset (Spark's `startTime`): a whole number of milliseconds with
 * `0 <= offset < limit`, where the limit is the tumbling size or the sliding slide.
 *
 * @throws RangeError quoting the input when it is not a duration, not whole, or not below the limit.
 */
export function parseWindowOffset(input: DurationLike | undefined, what: string, limit: number, limitName: string): number {
  if (input === undefined) return 0;
  const offset = wholeMillis(parseDuration(input, what), input, what);
  if (offset >= limit) {
    throw new RangeError(`${what}: ${quote(input)} (${offset} ms) must be smaller than the ${limitName} (${limit} ms); an offset only shifts the windows, so take it modulo the ${limitName}.`);
  }
  return offset;
}

/**
 * Throws a RangeError unless `t` is a finite number of milliseconds.
 *
 * @param what - names the caller in the error (`'tumbling window'`).
 */
export function checkEventTime(t: number, what: string): void {
  if (typeof t !== 'number' || !Number.isFinite(t)) {
    throw new RangeError(`${what}: event time ${quote(t)} is not a finite number of milliseconds since the epoch.`);
  }
}

function wholeMillis(ms: number, input: DurationLike, what: string): number {
  if (!Number.isSafeInteger(ms)) {
    throw new RangeError(`${what}: ${quote(input)} is ${ms} ms; window durations must be a whole number of milliseconds (at most ${Number.MAX_SAFE_INTEGER}).`);
  }
  return ms;
}

function quote(input: unknown): string {
  if (typeof input === 'string') return `'${input}'`;
  if (typeof input !== 'object' || input === null) return String(input);
  try {
    return JSON.stringify(input);
  } catch {
    return 'the object given';
  }
}
