/**
 * An incremental aggregation of values `V` into accumulators `A` with result `R` (Flink's
 * `AggregateFunction`, Spark's `Aggregator`), used per window, per pane and per session.
 *
 * Contract, checked for the built-in aggregators by the shared law suite:
 * - accumulators are state values (numbers, null, plain objects, arrays...: see
 *   `checkStateValue` in `sluice/state`), because the windowed operator keeps them as state;
 * - `add` and `merge` return the new accumulator and do not change their arguments, because an
 *   argument may be a value the state store already holds (stores forbid mutating a stored value);
 * - `merge` is associative, and `create()` is its identity; folding values with `add` equals
 *   merging the folds of any split of them;
 * - `inverse`, when present, undoes a merge: `inverse(merge(a, b), b)` equals `a`. It lets a
 *   sliding window subtract the pane leaving it instead of recombining all its panes.
 */
export interface Aggregator<in V, A, R> {
  /**
   * What the aggregator computes (`'count'`, `'sum'`, ... for the built-in ones): recorded in a
   * checkpoint, so that a restart with another aggregator, whose accumulators would mean something
   * else, is refused. Name your own to have that protection.
   */
  readonly name?: string;
  /** A new empty accumulator. */
  create(): A;
  /** The accumulator with `value` added. */
  add(acc: A, value: V): A;
  /** The accumulator of both inputs' values. */
  merge(a: A, b: A): A;
  /** The result of an accumulator, for output. */
  result(acc: A): R;
  /** Removes `removed`'s values from `acc`, where `removed` was merged into it: the inverse of `merge`. */
  readonly inverse?: (acc: A, removed: A) => A;
  /**
   * The version of the accumulators' shape (state schema evolution; default 1). A checkpointed
   * operator whose stored accumulators an older version wrote brings them to this one with
   * `migrate` when it loads them, and writes them back with its first batch; a restart with a
   * lower version than the checkpoint's is refused.
   */
  readonly version?: number;
  /** Brings an accumulator an older version wrote (`fromVersion`, 1 before any was declared) to `version`. */
  readonly migrate?: (acc: unknown, fromVersion: number) => A;
}
