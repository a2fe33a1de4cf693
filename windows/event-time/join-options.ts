import type { DurationLike, Key, OnError, Pair } from 'sluice';
import type { StateBackend } from 'sluice/extend';
import type { LatePolicy } from './window-options.js';

/**
 * Which rows an event-time join emits: `'inner'` the matching pairs; `'leftOuter'`,
 * `'rightOuter'` and `'fullOuter'` also each record of the outer side(s) that matched nothing,
 * paired with `null`, once the watermark shows that nothing can match it any more;
 * `'leftSemi'` each left record that matched, once, without the right side.
 */
export type JoinType = 'inner' | 'leftOuter' | 'rightOuter' | 'fullOuter' | 'leftSemi';

/**
 * The value of a joined row of join type `J`: `[left, right]`, with `null` (never `undefined`)
 * standing for "no match" on an outer side; the left value alone for `'leftSemi'`.
 */
export type JoinedValue<L, R, J extends JoinType> = J extends 'inner'
  ? [L, R]
  : J extends 'leftOuter'
    ? [L, R | null]
    : J extends 'rightOuter'
      ? [L | null, R]
      : J extends 'fullOuter'
        ? [L | null, R | null]
        : J extends 'leftSemi'
          ? L
          : never;

/** A record an event-time join found late, with the side it came from (its `lateRecords()` side output). */
export type LateJoinRecord<K extends Key, L, R> =
  | { readonly side: 'left'; readonly record: Pair<K, L> }
  | { readonly side: 'right'; readonly record: Pair<K, R> };

/** Options shared by `intervalJoin` and `windowJoin`. */
export interface EventTimeJoinOptions<J extends JoinType = 'inner'> {
  /** The join type (default `'inner'`). */
  readonly type?: J;
  /** Records that arrive too late to join: `'drop'` (default; counted) or `'sideOutput'` (see `lateRecords()`). */
  readonly late?: LatePolicy;
  /** How far behind the watermark a record may still arrive and join (default 0); state is kept that much longer. */
  readonly allowedLateness?: DurationLike;
  /** The operator's stable name: its state is stored under it (default `intervalJoin#n` / `windowJoin#n`). */
  readonly name?: string;
  /** What to do with a record whose key is not a key (default: the context's `onError`, `'fail'` unless set). */
  readonly onError?: OnError;
  /** Keeps the operator's state on this backend rather than on the context's default one (not with a checkpoint). */
  readonly stateBackend?: StateBackend;
}

/** The time bounds of `intervalJoin`: a right record joins a left one when `left + lowerBound <= right <= left + upperBound`. */
export interface IntervalBounds {
  /** ms (may be negative), or a duration string, `'-5s'` for five seconds before. */
  readonly lowerBound: number | string;
  /** ms (may be negative), or a duration string; not below `lowerBound`. */
  readonly upperBound: number | string;
}

export const JOIN_TYPES: readonly JoinType[] = ['inner', 'leftOuter', 'rightOuter', 'fullOuter', 'leftSemi'];

/** The checked common options: join type, late policy, allowed lateness in ms. */
export function checkJoinOptions(kind: string, options: EventTimeJoinOptions<JoinType>, parse: (d: DurationLike, what: string) => number): { readonly type: JoinType; readonly late: LatePolicy; readonly lateness: number } {
  const type = options.type ?? 'inner';
  if (!JOIN_TYPES.includes(type)) throw new TypeError(`${kind}: type must be one of ${JOIN_TYPES.map((t) => `'${t}'`).join(', ')}, got ${type}.`);
  const late = options.late ?? 'drop';
  if (late !== 'drop' && late !== 'sideOutput') throw new TypeError(`${kind}: late must be 'drop' or 'sideOutput', got ${String(late)}.`);
  return { type, late, lateness: parse(options.allowedLateness ?? 0, `${kind} allowedLateness`) };
}
