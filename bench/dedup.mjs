// Scenario 10b: deduplication. `dropDuplicates` in event time over 10M events of which 10% repeat
// an id seen shortly before, against a hand-written Map of ids with the same expiry rule, in the
// same run.
import { withWatermark, dropDuplicates } from 'sluice/windows';
import { seededRandom } from 'sluice/testing';
import { medianOf, row, runsNote, runSluice, timeBatches } from './lib.mjs';

/** @typedef {{ id: string, time: number }} DedupEvent */

const WITHIN = 5_000;
const DELAY = 1_000;

/**
 * Batch `b` of `size` events, `eventsPerSecond` of event time, up to 1 s out of order; one in ten
 * repeats the id of one of the 1,000 events before it (so within `WITHIN` of the first).
 *
 * @param {{ b: number, size: number, eventsPerSecond: number }} o @returns {DedupEvent[]}
 */
function dedupBatch({ b, size, eventsPerSecond }) {
  const rand = seededRandom(0xd0d0 + b * 7919);
  /** @type {DedupEvent[]} */
  const out = new Array(size);
  for (let i = 0; i < size; i++) {
    const index = b * size + i;
    const time = Math.max(0, Math.floor((index * 1000) / eventsPerSecond) - Math.floor(rand() * DELAY));
    const repeat = rand() < 0.1 && index > 1000;
    out[i] = { id: `tx-${repeat ? index - 1 - Math.floor(rand() * 1000) : index}`, time };
  }
  return out;
}

/**
 * The hand-written filter with the operator's rules: per batch, forget the ids remembered until
 * before `watermark` (kept in buckets of a second by expiry), drop records whose time plus
 * `WITHIN` is behind it, keep the first of each id; then the watermark becomes the greatest event
 * time less the delay.
 */
function handDedup() {
  /** @type {Map<string, number>} */
  const until = new Map();
  /** @type {Map<number, string[]>} ids by the second their memory ends */
  const buckets = new Map();
  let watermark = -Infinity;
  let maxTime = -Infinity;
  let kept = 0;
  /** @param {number} _b @param {DedupEvent[]} events */
  const step = (_b, events) => {
    for (const [second, ids] of buckets) {
      if (second * 1000 >= watermark) continue;
      const left = [];
      for (const id of ids) {
        const t = /** @type {number} */ (until.get(id));
        if (t < watermark) until.delete(id);
        else left.push(id);
      }
      if (left.length === 0) buckets.delete(second);
      else buckets.set(second, left);
    }
    for (let i = 0; i < events.length; i++) {
      const e = /** @type {DedupEvent} */ (events[i]);
      if (e.time > maxTime) maxTime = e.time;
      const end = e.time + WITHIN;
      if (end < watermark || until.has(e.id)) continue;
      until.set(e.id, end);
      const second = Math.floor(end / 1000);
      let ids = buckets.get(second);
      if (ids === undefined) buckets.set(second, (ids = []));
      ids.push(e.id);
      kept++;
    }
    if (maxTime - DELAY > watermark) watermark = maxTime - DELAY;
  };
  return { step, kept: () => kept, size: () => until.size };
}

/** @param {{ scale: number, rounds?: number }} o @returns {Promise<import('./lib.mjs').BenchRow[]>} */
export async function dedupScenario({ scale, rounds = 1 }) {
  const S = '10b dropDuplicates within 5s, 10% duplicates';
  const total = Math.round(10_000_000 * scale);
  const batchSize = Math.round(200_000 * scale);
  const numBatches = Math.ceil(total / batchSize);
  const events = numBatches * batchSize;
  const eventsPerSecond = Math.round(100_000 * scale);
  const batch = (/** @type {number} */ b) => dedupBatch({ b, size: batchSize, eventsPerSecond });
  let maxStateRows = 0;
  const { sluice, hand } = await medianOf(rounds, {
    sluice: () =>
      runSluice({
        numBatches,
        batch,
        build: (input) =>
          input.pipe(
            withWatermark((/** @type {DedupEvent} */ e) => e.time, DELAY),
            dropDuplicates((/** @type {DedupEvent} */ e) => e.id, { within: WITHIN, name: 'dedup' }),
          ),
        onProgress: (p) => {
          maxStateRows = Math.max(maxStateRows, p.operators[0]?.stateRows ?? 0);
        },
      }),
    hand: () => {
      const loop = handDedup();
      return { ms: timeBatches({ numBatches, batch, step: loop.step }), kept: loop.kept() };
    },
  });
  const check = sluice.outputs === hand.kept ? `outputs agree (${sluice.outputs} kept)` : `OUTPUTS DIFFER sluice=${sluice.outputs} hand=${hand.kept}`;
  return [
    row(S, 'sluice dropDuplicates', events, sluice.ms, { note: `${numBatches} batches of ${batchSize}, watermark delay 1s; at most ${maxStateRows} ids remembered; ${check}${runsNote(sluice, hand)}` }),
    row(S, 'hand Map with expiry buckets', events, hand.ms, { baseline: 'hand Map', ratio: hand.ms / sluice.ms, target: '>= 0.5' }),
  ];
}
