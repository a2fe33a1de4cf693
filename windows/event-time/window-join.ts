import { Batch, DStream, map, mapValues, union, type Key, type Pair } from 'sluice';
import { definition, keepLastResults, parseDuration, type BatchContext } from 'sluice/extend';
import { checkVersioning } from '../../state/internal.js';
import type { Aggregator } from './aggregator.js';
import { EventTimeWindowDStream } from './event-time-window.js';
import { checkTimed } from './interval-join.js';
import { checkJoinOptions, type EventTimeJoinOptions, type JoinedValue, type JoinType, type LateJoinRecord } from './join-options.js';
import type { WindowResult } from './window-options.js';
import type { SessionWindows } from './session-windows.js';
import type { WindowAssigner } from './window-assigner.js';

/** A value on its way into the window join: 0 for the left side, 1 for the right. */
type Tagged = readonly [side: 0 | 1, value: unknown];

/** A key's records in one window (or pane), each side in arrival order. */
interface Sides {
  readonly l: readonly unknown[];
  readonly r: readonly unknown[];
}

const EMPTY: Sides = Object.freeze({ l: Object.freeze([]), r: Object.freeze([]) });

/**
 * Collects both sides of a key's window. A new `Sides` per record, never a changed one: the
 * window table keeps accumulators for undo and for the store's staged writes.
 */
const sides: Aggregator<Tagged, Sides, Sides> = {
  name: 'windowJoin',
  create: () => EMPTY,
  add: (acc, [side, value]) => (side === 0 ? { l: [...acc.l, value], r: acc.r } : { l: acc.l, r: [...acc.r, value] }),
  merge: (a, b) => ({ l: b.l.length === 0 ? a.l : [...a.l, ...b.l], r: b.r.length === 0 ? a.r : [...a.r, ...b.r] }),
  result: (acc) => acc,
};

/** The stream {@link windowJoin} returns: a row per joined pair of a closed window; `lateRecords()` is its side output. */
export class WindowJoinDStream<K extends Key, L, R, O> extends DStream<WindowResult<K, O>> {
  readonly #windows: EventTimeWindowDStream<K, Tagged, Sides, WindowResult<K, Sides>>;
  readonly #type: JoinType;

  constructor(windows: EventTimeWindowDStream<K, Tagged, Sides, WindowResult<K, Sides>>, type: JoinType) {
    super({ kind: 'windowJoinRows', graph: windows.graph, parents: [windows] });
    this.#windows = windows;
    this.#type = type;
  }

  /**
   * The records that arrived after every window they fall in had closed, each with its side.
   *
   * @throws TypeError when the late policy is not `'sideOutput'`.
   */
  lateRecords(): DStream<LateJoinRecord<K, L, R>> {
    return this.#windows.lateRecords().pipe(map(([key, [side, value]]: Pair<K, Tagged>): LateJoinRecord<K, L, R> => (side === 0 ? { side: 'left', record: [key, value as L] } : { side: 'right', record: [key, value as R] })));
  }

  protected override async compute(bc: BatchContext): Promise<Batch<WindowResult<K, O>>> {
    const closed = (await this.#windows.getOrCompute(bc)) ?? Batch.empty<WindowResult<K, Sides>>();
    const type = this.#type;
    const leftRows = type === 'leftOuter' || type === 'fullOuter';
    const rightRows = type === 'rightOuter' || type === 'fullOuter';
    const out: WindowResult<K, unknown>[] = [];
    for (const partition of closed.partitions) {
      for (const { key, window, value: { l, r } } of partition) {
        if (type === 'leftSemi') {
          if (r.length > 0) for (const left of l) out.push({ key, window, value: left });
        } else if (r.length === 0) {
          if (leftRows) for (const left of l) out.push({ key, window, value: [left, null] });
        } else if (l.length === 0) {
          if (rightRows) for (const right of r) out.push({ key, window, value: [null, right] });
        } else {
          for (const left of l) for (const right of r) out.push({ key, window, value: [left, right] });
        }
      }
    }
    return Batch.of(out as WindowResult<K, O>[], bc.defaultParallelism);
  }
}

/**
 * Joins two keyed event-time streams by key and window (Flink's window join): each record goes
 * to its windows from `assigner` (`tumbling`, `sliding` or `calendar`; not `session`), and when
 * the watermark closes a window (its end plus the allowed lateness), every left record of a key
 * in it is paired with every right record of the key in it: one `{ key, window, value: [l, r] }`
 * per pair, emitted once (append). Outer types add `[l, null]` for each left record of a window
 * with no right record of its key (`'leftOuter'`, `'fullOuter'`) and `[null, r]` the other way
 * (`'rightOuter'`, `'fullOuter'`): `null`, never `undefined`, is the "no match" marker.
 * `'leftSemi'` gives `value: l` for each left record of a window with at least one right record.
 *
 * The watermark is the two sides' combined one (the minimum by default, an idle side left out);
 * a record is late when all its windows have closed: dropped and counted, or the side output.
 * **Order:** windows in the order `eventTimeWindow` emits them in append mode (by end, then
 * start, then key); within a window and key, left records in arrival order, each with the right
 * records in arrival order.
 *
 * **Memory.** Every record of every open window (each in all its panes for sliding windows), per
 * key, on every backend, until the window closes; a key's list is copied on each record it
 * gains, so the cost grows with the square of the records per key and window: meant for modest
 * counts (the interval join holds each record once).
 *
 * @throws TypeError at once for a session assigner, a side without a `withWatermark` upstream or
 * whose event time an operator in between cannot carry, a bad join type or late policy; the
 * errors of `eventTimeWindow` while running.
 * @example
 * clicks.pipe(windowJoin(impressions, tumbling('1m'), { type: 'leftOuter' }))
 * // DStream<WindowResult<string, [Click, Impression | null]>>
 */
export function windowJoin<K extends Key, L, R, J extends JoinType = 'inner'>(
  other: DStream<Pair<K, R>>,
  assigner: Exclude<WindowAssigner, SessionWindows>,
  options: EventTimeJoinOptions<J> = {},
): (stream: DStream<Pair<K, L>>) => WindowJoinDStream<K, L, R, JoinedValue<L, R, J>> {
  if ((assigner as WindowAssigner).kind === 'session') throw new TypeError('windowJoin: session windows are not supported (a join pairs records of the same fixed window); use tumbling, sliding or calendar windows, or intervalJoin.');
  const { type, late, lateness } = checkJoinOptions('windowJoin', options, parseDuration);
  const defined = definition('windowJoin', options);
  const versioning = checkVersioning('windowJoin', 1, undefined);
  return (stream) => {
    checkTimed('windowJoin', stream, 'left');
    checkTimed('windowJoin', other, 'right');
    const left = stream.pipe(mapValues((value: L): Tagged => [0, value]));
    const right = other.pipe(mapValues((value: R): Tagged => [1, value]));
    const windows = new EventTimeWindowDStream<K, Tagged, Sides, WindowResult<K, Sides>>(left.pipe(union(right)), assigner, sides as Aggregator<Tagged, unknown, Sides>, { eventTime: undefined, outputMode: 'append', late, lateness, numPartitions: undefined }, { name: options.name, stateBackend: options.stateBackend, versioning, defined, kind: 'windowJoin' });
    const joined = new WindowJoinDStream<K, L, R, JoinedValue<L, R, J>>(windows, type);
    // The joined rows are the join's results, under the join's id (its name, or windowJoin#n).
    keepLastResults(joined, 'keyedWindows', windows.describe);
    return joined;
  };
}
