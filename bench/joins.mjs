// Scenario 10 (first half): an event-time interval join of two keyed streams (inner, ±5 s
// bounds, 1 s of disorder and watermark delay) against a hand-written two-map join with the same
// late and cleanup rules, in the same run; and the join's state rows over the run.
import { foreachBatch, ManualClock, mapToPair, StreamingContext } from 'sluice';
import { intervalJoin, withWatermark } from 'sluice/windows';
import { keyNames, makeBatch, medianOf, now, row, runsNote } from './lib.mjs';

/** @typedef {import('./lib.mjs').BenchEvent} BenchEvent */
/** @typedef {import('./lib.mjs').BenchRow} BenchRow */

const LOWER = -5000;
const UPPER = 5000;
const DELAY = 1000;

/**
 * The hand-written join: per side a `Map` key → { t: number[], v: BenchEvent[] }. Per batch, as
 * the operator does: records below the watermark are dropped; each left record is paired with
 * the right records of its key in bounds and buffered; then each right record with the left
 * ones; then left records with `t + UPPER < W` and right ones with `t - LOWER < W` are evicted;
 * the watermark becomes min over the sides of `max time - DELAY` for the next batch. The pairs go
 * into an array per batch, as a sink would receive them.
 */
function handJoin() {
  /** @type {[Map<string, { t: number[], v: BenchEvent[] }>, Map<string, { t: number[], v: BenchEvent[] }>]} */
  const sides = [new Map(), new Map()];
  const max = [-Infinity, -Infinity];
  let watermark = -Infinity;
  let pairs = 0;
  let rows = 0;
  let maxRows = 0;
  /** @param {0 | 1} side @param {BenchEvent[]} evs @param {unknown[]} out */
  const add = (side, evs, out) => {
    const mine = sides[side];
    const other = sides[1 - side];
    for (let i = 0; i < evs.length; i++) {
      const e = /** @type {BenchEvent} */ (evs[i]);
      if (e.time > max[side]) max[side] = e.time;
      if (e.time < watermark) continue;
      const from = side === 0 ? e.time + LOWER : e.time - UPPER;
      const to = side === 0 ? e.time + UPPER : e.time - LOWER;
      const theirs = /** @type {Map<string, { t: number[], v: BenchEvent[] }>} */ (other).get(e.key);
      if (theirs !== undefined) {
        for (let j = 0; j < theirs.t.length; j++) {
          const t = /** @type {number} */ (theirs.t[j]);
          if (t >= from && t <= to) out.push(side === 0 ? [e.key, [e, theirs.v[j]]] : [e.key, [theirs.v[j], e]]);
        }
      }
      let buffered = mine.get(e.key);
      if (buffered === undefined) mine.set(e.key, (buffered = { t: [], v: [] }));
      buffered.t.push(e.time);
      buffered.v.push(e);
      rows++;
    }
  };
  /** @param {0 | 1} side @param {number} below */
  const evict = (side, below) => {
    for (const [key, b] of sides[side]) {
      let kept = 0;
      for (let i = 0; i < b.t.length; i++) {
        if (/** @type {number} */ (b.t[i]) < below) continue;
        b.t[kept] = /** @type {number} */ (b.t[i]);
        b.v[kept++] = /** @type {BenchEvent} */ (b.v[i]);
      }
      rows -= b.t.length - kept;
      b.t.length = kept;
      b.v.length = kept;
      if (kept === 0) sides[side].delete(key);
    }
  };
  /** @param {BenchEvent[]} left @param {BenchEvent[]} right */
  const step = (left, right) => {
    /** @type {unknown[]} */
    const out = [];
    add(0, left, out);
    add(1, right, out);
    if (watermark !== -Infinity) {
      evict(0, watermark - UPPER);
      evict(1, watermark + LOWER);
    }
    pairs += out.length;
    if (rows > maxRows) maxRows = rows;
    watermark = Math.max(watermark, Math.min(max[0], max[1]) - DELAY);
  };
  return { step, pairs: () => pairs, maxRows: () => maxRows };
}

/**
 * @param {{ numBatches: number, left: (b: number) => BenchEvent[], right: (b: number) => BenchEvent[] }} o
 * @returns {{ ms: number, pairs: number, maxRows: number }}
 */
function timeHand({ numBatches, left, right }) {
  const join = handJoin();
  let ms = 0;
  for (let b = 0; b < numBatches; b++) {
    const l = left(b);
    const r = right(b);
    const t0 = now();
    join.step(l, r);
    ms += now() - t0;
  }
  return { ms, pairs: join.pairs(), maxRows: join.maxRows() };
}

/**
 * The Sluice job: two `queueStream`s, each `withWatermark` (delay 1 s) and `mapToPair` by key,
 * joined by `intervalJoin` (inner, ±5 s). Times only the batches; records the join's `stateRows`.
 *
 * @param {{ numBatches: number, left: (b: number) => BenchEvent[], right: (b: number) => BenchEvent[] }} o
 * @returns {Promise<{ ms: number, pairs: number, stateRows: number[] }>}
 */
async function timeSluice({ numBatches, left, right }) {
  const clock = new ManualClock();
  const ctx = new StreamingContext({ batchInterval: 1000, clock });
  /** @type {BenchEvent[][]} */
  const lq = [];
  /** @type {BenchEvent[][]} */
  const rq = [];
  const keyed = (/** @type {BenchEvent[][]} */ q, /** @type {string} */ name) =>
    ctx.queueStream(q, { name }).pipe(withWatermark((/** @type {BenchEvent} */ e) => e.time, DELAY), mapToPair((/** @type {BenchEvent} */ e) => [e.key, e]));
  let pairs = 0;
  keyed(lq, 'left').pipe(intervalJoin(keyed(rq, 'right'), { lowerBound: LOWER, upperBound: UPPER }), foreachBatch((records) => void (pairs += records.length)));
  /** @type {number[]} */
  const stateRows = [];
  ctx.addListener((e) => {
    if (e.type === 'batchCompleted') stateRows.push(e.progress.operators.find((o) => o.operator === 'intervalJoin#0')?.stateRows ?? Number.NaN);
  });
  await ctx.start();
  let ms = 0;
  for (let b = 0; b < numBatches; b++) {
    lq.push(left(b));
    rq.push(right(b));
    const t0 = now();
    await clock.advance(1000);
    ms += now() - t0;
  }
  await ctx.stop();
  return { ms, pairs, stateRows };
}

/** @param {{ scale: number, rounds?: number }} o @returns {Promise<BenchRow[]>} */
export async function joinsScenario({ scale, rounds = 1 }) {
  const S = '10 interval join ±5s, 1s disorder';
  const perSide = Math.round(1_000_000 * scale);
  const keys = keyNames(Math.round(10_000 * scale));
  const batchSize = Math.round(10_000 * scale);
  const numBatches = Math.ceil(perSide / batchSize);
  // 5,000 events/s per side: 200 s of event time, each key about every 2 s per side.
  const eventsPerSecond = Math.round(5_000 * scale);
  const left = (/** @type {number} */ b) => makeBatch({ b, size: batchSize, keys, eventsPerSecond, jitterMs: 1000 });
  // The right side: other keys and disorder (its own seed), the same times' progression.
  const right = (/** @type {number} */ b) => makeBatch({ b: b + 1_000_003, size: batchSize, keys, eventsPerSecond, jitterMs: 1000 }).map((e, i) => ({ ...e, time: Math.max(0, Math.floor(((b * batchSize + i) * 1000) / eventsPerSecond) - (e.value * 10)) }));
  const { sluice, hand } = await medianOf(rounds, { sluice: () => timeSluice({ numBatches, left, right }), hand: () => timeHand({ numBatches, left, right }) });
  const events = 2 * numBatches * batchSize;
  const check = sluice.pairs === hand.pairs ? `pairs agree (${sluice.pairs})` : `PAIRS DIFFER sluice=${sluice.pairs} hand=${hand.pairs}`;
  const rows = sluice.stateRows;
  const half = Math.floor(rows.length / 2);
  const firstMax = Math.max(...rows.slice(5, half));
  const secondMax = Math.max(...rows.slice(half));
  const bounded = `state rows: max ${firstMax} in batches 5..${half - 1}, ${secondMax} in ${half}..${rows.length - 1} (the hand loop's max over all batches, the first ones included: ${hand.maxRows})`;
  return [
    row(S, 'sluice intervalJoin', events, sluice.ms, { note: `${numBatches} batches of ${batchSize} per side, ${keys.length} keys, ${eventsPerSecond} events/s per side; ${check}; ${bounded}${runsNote(sluice, hand)}` }),
    row(S, 'hand two-map join', events, hand.ms, { baseline: 'hand two-map join', ratio: hand.ms / sluice.ms, target: '>= 0.5' }),
  ];
}
