import { parsePositiveDuration } from 'sluice/extend';
import type { DurationLike, Key } from 'sluice';

/**
 * Session windows: a key's records closer than the gap to each other share one window, which
 * ends a gap after its last record (Spark's `session_window`, Flink's
 * `EventTimeSessionWindows`). The merging itself is {@link addToSessions}.
 */
export interface SessionWindows {
  readonly kind: 'session';
  /** The constant gap in milliseconds, or `undefined` when the gap is a function of the key. */
  readonly gap: number | undefined;
  /**
   * The gap of `key`'s sessions, in milliseconds (positive; fractions allowed).
   *
   * @throws RangeError when a gap function returns something that is not a positive duration,
   *   naming the key.
   */
  gapOf(key: Key): number;
}

/**
 * Session windows with a constant gap, or a gap per key (Spark's dynamic gap, Flink's
 * `withDynamicGap`). A gap function is called for each record, so keep it cheap and
 * deterministic: it must give the same gap for the same key on every run, or recovery replays
 * a batch differently. Returning a number of milliseconds skips duration parsing.
 *
 * @param gap - a positive duration (`'30m'`, `1_800_000`), or a function from a key to one.
 * @throws RangeError quoting the input when a constant gap is not a positive duration.
 * @example session('30m').gapOf('user-1') // 1_800_000
 * @example session((key) => (String(key).startsWith('bot-') ? '1m' : '30m'))
 */
export function session(gap: DurationLike | ((key: Key) => DurationLike)): SessionWindows {
  if (typeof gap !== 'function') {
    const ms = parsePositiveDuration(gap, 'session window gap');
    return { kind: 'session', gap: ms, gapOf: () => ms };
  }
  return {
    kind: 'session',
    gap: undefined,
    gapOf(key: Key): number {
      const ms = gap(key);
      if (typeof ms === 'number' && ms > 0 && Number.isFinite(ms)) return ms;
      return parsePositiveDuration(ms, `session window gap for key ${JSON.stringify(key, bigintAsText)}`);
    },
  };
}

function bigintAsText(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? `${value}n` : value;
}
