// @electric-sql/d2ts (differential dataflow in TypeScript) as a peer of scenarios 1 and 2, written
// the way its users would: one version per batch, `sendFrontier` to close it, `graph.run()`.
// d2ts has no windows or watermarks and keeps every key of every version in its index, so it runs
// over the first batches only (its rate is what is compared).
import { D2, MessageType, MultiSet, count, filter, map, output, reduce } from '@electric-sql/d2ts';
import { timeBatches } from './lib.mjs';

/** @typedef {import('./lib.mjs').BenchEvent} BenchEvent */

/** How many batches d2ts runs: its index holds every key of every version it has seen. */
export const D2TS_BATCHES = 4;

/**
 * Scenario 1 in d2ts: map, filter, then a per-batch sum by key. d2ts accumulates across versions,
 * so a per-batch reduce keys by `(batch, key)`; every key then occurs in one version only and the
 * output holds no retractions.
 *
 * @param {{ numBatches: number, batch: (b: number) => BenchEvent[] }} o
 * @returns {{ ms: number, sum: number, batches: number }}
 */
export function timeD2tsKeyed({ numBatches, batch }) {
  const graph = new D2({ initialFrontier: 0 });
  const input = graph.newInput();
  let sum = 0;
  input.pipe(
    map((/** @type {[number, BenchEvent]} */ [b, e]) => /** @type {[string, number]} */ ([`${b}|${e.key}`, e.value * 2])),
    filter(([, v]) => v % 3 !== 0),
    reduce((values) => {
      let s = 0;
      for (const [v, multiplicity] of values) s += v * multiplicity;
      return [[s, 1]];
    }),
    output((message) => {
      if (message.type !== MessageType.DATA) return;
      for (const [[, s], multiplicity] of message.data.collection.getInner()) sum += s * multiplicity;
    }),
  );
  return { ...timeVersions(graph, input, numBatches, batch, (b, e) => [b, e]), sum };
}

/**
 * Scenario 2 in d2ts: a count by `(1 s window, key)`, one version per batch. d2ts emits each
 * changed count as a retraction and an insertion, has no watermark (nothing is late, nothing is
 * evicted) and emits updates rather than final windows; `windows` is the net number of window
 * counts it holds at the end.
 *
 * @param {{ numBatches: number, batch: (b: number) => BenchEvent[], size: number }} o
 * @returns {{ ms: number, windows: number, batches: number }}
 */
export function timeD2tsTumbling({ numBatches, batch, size }) {
  const graph = new D2({ initialFrontier: 0 });
  const input = graph.newInput();
  let windows = 0;
  input.pipe(
    map((/** @type {BenchEvent} */ e) => /** @type {[string, number]} */ ([`${Math.floor(e.time / size) * size}|${e.key}`, 1])),
    count(),
    output((message) => {
      if (message.type !== MessageType.DATA) return;
      for (const [, multiplicity] of message.data.collection.getInner()) windows += multiplicity;
    }),
  );
  return { ...timeVersions(graph, input, numBatches, batch, (_b, e) => e), windows };
}

/**
 * Finalizes `graph` and times its first batches, batch `b` sent to `input` as version `b` (each
 * event as `item(b, event)` with multiplicity 1), closed by the frontier `b + 1` and run.
 *
 * @template T
 * @param {D2} graph @param {{ sendData: (version: number, data: MultiSet<T>) => void, sendFrontier: (frontier: number) => void }} input
 * @param {number} numBatches @param {(b: number) => BenchEvent[]} batch @param {(b: number, e: BenchEvent) => T} item
 * @returns {{ ms: number, batches: number }}
 */
function timeVersions(graph, input, numBatches, batch, item) {
  graph.finalize();
  const batches = Math.min(numBatches, D2TS_BATCHES);
  const ms = timeBatches({
    numBatches: batches,
    batch,
    step: (b, events) => {
      input.sendData(b, new MultiSet(events.map((e) => [item(b, e), 1])));
      input.sendFrontier(b + 1);
      graph.run();
    },
  });
  return { ms, batches };
}
