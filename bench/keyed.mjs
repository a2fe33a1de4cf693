// Scenario 1: stateless and keyed. map, filter, reduceByKey per batch, against a hand-written
// single-pass loop and RxJS (groupBy/mergeMap/scan, and bufferCount with a reduce).
import { Subject, bufferCount, filter as rxFilter, groupBy, map as rxMap, mergeMap, scan } from 'rxjs';
import { filter, map, mapToPair, reduceByKey } from 'sluice';
import { timeD2tsKeyed } from './d2ts-peers.mjs';
import { keyNames, makeBatch, medianOf, row, runsNote, runSluice, timeBatches } from './lib.mjs';

/** @typedef {import('./lib.mjs').BenchEvent} BenchEvent */

/** Scenario 1's user functions: the value doubled, then multiples of 3 dropped. */
const double = (/** @type {BenchEvent} */ e) => ({ key: e.key, value: e.value * 2 });
const keep = (/** @type {{ value: number }} */ e) => e.value % 3 !== 0;

/**
 * Scenario 1's Sluice pipeline, built from the operators given (those of this build, or of
 * another build's `dist/` for an A/B comparison): map, filter, mapToPair, reduceByKey (sum).
 *
 * @param {{ map: Function, filter: Function, mapToPair: Function, reduceByKey: Function }} ops
 * @returns {(input: any) => any}
 */
export function keyedPipeline({ map: m, filter: f, mapToPair: p, reduceByKey: r }) {
  return (input) => input.pipe(m(double), f(keep), p((/** @type {BenchEvent} */ e) => [e.key, e.value]), r((/** @type {number} */ a, /** @type {number} */ b) => a + b));
}

/** @param {{ scale: number, rounds?: number }} o @returns {Promise<import('./lib.mjs').BenchRow[]>} */
export async function keyedScenario({ scale, rounds = 1 }) {
  const S = '1 keyed: map+filter+reduceByKey';
  const total = Math.round(10_000_000 * scale);
  const keys = keyNames(Math.round(100_000 * scale));
  const batchSize = Math.round(500_000 * scale);
  const numBatches = Math.ceil(total / batchSize);
  const events = numBatches * batchSize;
  const batch = (/** @type {number} */ b) => makeBatch({ b, size: batchSize, keys, eventsPerSecond: 100_000 });

  // Sluice and the hand loop: the median of interleaved runs (RxJS, far slower, runs once).
  const { sluice, hand } = await medianOf(rounds, {
    sluice: async () => {
      let sum = 0;
      const { ms } = await runSluice({
        numBatches,
        batch,
        build: keyedPipeline({ map, filter, mapToPair, reduceByKey }),
        onOutput: (records) => {
          for (const [, v] of records) sum += v;
        },
      });
      return { ms, sum };
    },
    hand: () => {
      let sum = 0;
      const ms = timeBatches({
        numBatches,
        batch,
        step: (_b, evs) => {
          /** @type {Map<string, number>} */
          const sums = new Map();
          for (let i = 0; i < evs.length; i++) {
            const e = /** @type {BenchEvent} */ (evs[i]);
            const v = e.value * 2;
            if (v % 3 !== 0) sums.set(e.key, (sums.get(e.key) ?? 0) + v);
          }
          for (const v of sums.values()) sum += v;
        },
      });
      return { ms, sum };
    },
  });

  /** @type {Subject<BenchEvent>} */
  const groupSubject = new Subject();
  let groupEmissions = 0;
  groupSubject
    .pipe(rxMap(double), rxFilter(keep), groupBy((e) => e.key), mergeMap((g) => g.pipe(scan((acc, e) => acc + e.value, 0))))
    .subscribe(() => void groupEmissions++);
  const rxGroup = timeBatches({ numBatches, batch, step: (_b, evs) => { for (const e of evs) groupSubject.next(e); }, finish: () => groupSubject.complete() });

  /** @type {Subject<BenchEvent>} */
  const bufferSubject = new Subject();
  let rxSum = 0;
  bufferSubject
    .pipe(
      rxMap(double),
      rxFilter(keep),
      bufferCount(batchSize),
      rxMap((buf) => {
        /** @type {Map<string, number>} */
        const sums = new Map();
        for (const e of buf) sums.set(e.key, (sums.get(e.key) ?? 0) + e.value);
        return sums;
      }),
    )
    .subscribe((sums) => {
      for (const v of sums.values()) rxSum += v;
    });
  const rxBuffer = timeBatches({ numBatches, batch, step: (_b, evs) => { for (const e of evs) bufferSubject.next(e); }, finish: () => bufferSubject.complete() });

  // d2ts, a peer: once, over its first batches; its sum is checked against a plain loop over those.
  const d2 = timeD2tsKeyed({ numBatches, batch });
  let d2Expected = 0;
  for (let b = 0; b < d2.batches; b++) for (const e of batch(b)) if ((e.value * 2) % 3 !== 0) d2Expected += e.value * 2;
  const d2Check = d2.sum === d2Expected ? 'sum agrees' : `SUM DIFFERS d2ts=${d2.sum} expected=${d2Expected}`;
  const d2Events = d2.batches * batchSize;

  const check = sluice.sum === hand.sum && hand.sum === rxSum ? 'sums agree' : `SUMS DIFFER sluice=${sluice.sum} hand=${hand.sum} rx=${rxSum}`;
  const rate = (/** @type {number} */ ms) => events / ms;
  return [
    row(S, 'sluice', events, sluice.ms, { note: `${numBatches} batches of ${batchSize}, ${keys.length} keys; ${check}${runsNote(sluice, hand)}` }),
    row(S, 'hand loop', events, hand.ms, { baseline: 'hand loop', ratio: rate(sluice.ms) / rate(hand.ms), target: '>= 0.6' }),
    row(S, 'rxjs groupBy/mergeMap/scan', events, rxGroup, { baseline: 'rxjs groupBy', ratio: rate(sluice.ms) / rate(rxGroup), target: '>= 10', note: `${groupEmissions} emissions` }),
    row(S, 'rxjs bufferCount+reduce', events, rxBuffer, { baseline: 'rxjs bufferCount', ratio: rate(sluice.ms) / rate(rxBuffer) }),
    row(S, 'd2ts map/filter/reduce', d2Events, d2.ms, { baseline: 'd2ts reduce', ratio: rate(sluice.ms) / (d2Events / d2.ms), note: `first ${d2.batches} batches, key (batch, key); ${d2Check}` }),
  ];
}
