import type { Aggregator } from './aggregator.js';

/**
 * The accumulator of a window made of `panes`: `create()` merged with every pane in order;
 * `undefined` stands for a pane with no records. A window with no records gives `create()`.
 *
 * @param panes - the window's pane accumulators, ascending (as `SlidingWindows.panesOf`).
 * @example combinePanes([3, undefined, 4], count()) // 7
 */
export function combinePanes<A>(panes: readonly (A | undefined)[], agg: Aggregator<never, A, unknown>): A {
  let acc = agg.create();
  for (const pane of panes) if (pane !== undefined) acc = agg.merge(acc, pane);
  return acc;
}

/**
 * The accumulator of the next sliding window from the previous one, with an invertible
 * aggregator: `merge(inverse(previous, leaving panes), entering panes)`. When the slide spans
 * several panes, pass all of them; `undefined` panes had no records. Equal to
 * `combinePanes` over the next window's panes up to the aggregator's rounding (exact for
 * `count`, and for `sum` and `mean` of integers).
 *
 * @param previous - the accumulator of the window the slide starts from.
 * @param leaving - the panes in `previous` that the next window does not cover.
 * @param entering - the panes of the next window that `previous` did not cover.
 * @throws TypeError when `agg` has no `inverse` (recombine with {@link combinePanes} instead).
 * @example slidePanes(7, [3], [5], count()) // 9
 */
export function slidePanes<A>(
  previous: A,
  leaving: readonly (A | undefined)[],
  entering: readonly (A | undefined)[],
  agg: Aggregator<never, A, unknown>,
): A {
  const { inverse } = agg;
  if (inverse === undefined) {
    throw new TypeError('slidePanes: the aggregator has no inverse; recombine the window from its panes with combinePanes instead.');
  }
  let acc = previous;
  for (const pane of leaving) if (pane !== undefined) acc = inverse(acc, pane);
  for (const pane of entering) if (pane !== undefined) acc = agg.merge(acc, pane);
  return acc;
}
