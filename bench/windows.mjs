// Scenario 2: event-time tumbling one-second window count per key with a watermark (append
// mode) against a hand-written nested-Map loop with the same watermark eviction.
// Scenario 3: sliding windows of 60 slides, incremental against brute-force recomputation, in
// event time (panes with an inverse) and in batch time (reduceByKeyAndWindow with an inverse).
import { Subject, scan } from 'rxjs';
import { timeD2tsTumbling } from './d2ts-peers.mjs';
import { mapToPair } from 'sluice';
import { agg, eventTimeWindow, reduceByKeyAndWindow, sliding, tumbling, withWatermark } from 'sluice/windows';
import { keyNames, makeBatch, medianOf, row, runsNote, runSluice, timeBatches } from './lib.mjs';

/** @typedef {import('./lib.mjs').BenchEvent} BenchEvent */
/** @typedef {import('./lib.mjs').BenchRow} BenchRow */

/**
 * A hand-written event-time window count with the engine's rules: at the start of a batch the
 * windows whose end the watermark reached are emitted and evicted, then the batch's records are
 * added (a record whose windows have all closed is dropped), then the watermark becomes
 * `max event time - delay`. `windowsOf` lists a time's window starts.
 *
 * It emits what Sluice's sink gets: one `{ key, window: { start, end }, value }` per closed
 * window and key, in an array per batch that the "sink" counts (before 2026-12-08 it only added
 * up the closed maps' sizes, so Sluice alone paid for building 5.9M results). Not in a defined
 * order: the hand loop never restarts, so it needs none (Sluice sorts each window's keys by hash
 * so that a replay after a restart emits the same order; that cost stays Sluice's).
 *
 * @param {{ size: number, delay: number, windowsOf: (t: number) => number[] }} o
 */
function handWindows({ size, delay, windowsOf }) {
  /** @type {Map<number, Map<string, number>>} */
  const windows = new Map();
  let watermark = -Infinity;
  let maxTime = -Infinity;
  let emitted = 0;
  /** @param {number} _b @param {BenchEvent[]} evs */
  const step = (_b, evs) => {
    /** @type {{ key: string, window: { start: number, end: number }, value: number }[]} */
    const out = [];
    for (const [start, counts] of windows) {
      if (start + size <= watermark) {
        const window = { start, end: start + size };
        for (const [key, value] of counts) out.push({ key, window, value });
        windows.delete(start);
      }
    }
    emitted += out.length;
    for (let i = 0; i < evs.length; i++) {
      const e = /** @type {BenchEvent} */ (evs[i]);
      if (e.time > maxTime) maxTime = e.time;
      for (const start of windowsOf(e.time)) {
        if (start + size <= watermark) continue;
        let counts = windows.get(start);
        if (counts === undefined) windows.set(start, (counts = new Map()));
        counts.set(e.key, (counts.get(e.key) ?? 0) + 1);
      }
    }
    if (maxTime - delay > watermark) watermark = maxTime - delay;
  };
  return { step, emitted: () => emitted };
}

/**
 * The Sluice job of scenarios 2 and 3a: `withWatermark`, `mapToPair` by key, `eventTimeWindow` in
 * append mode.
 *
 * @param {{ numBatches: number, batch: (b: number) => BenchEvent[], delay: number, assigner: import('sluice/windows').WindowAssigner,
 *   agg: import('sluice/windows').Aggregator<unknown, number, number> }} o
 */
export function windowJob({ numBatches, batch, delay, assigner, agg }) {
  return runSluice({
    numBatches,
    batch,
    build: (input) =>
      input.pipe(
        withWatermark((/** @type {BenchEvent} */ e) => e.time, delay),
        mapToPair((e) => [e.key, e]),
        eventTimeWindow(assigner, agg, { outputMode: 'append' }),
      ),
  });
}

/**
 * The event-time tumbling count as an RxJS user would write it (a peer of scenario 2): one `scan`
 * over the records, its state a map of windows to counts per key, the watermark (the largest event
 * time less the delay) moving with each record; when it passes the end of the earliest open
 * window, the closed windows' results (`{ key, window, value }`, as Sluice's) are collected and
 * the windows evicted; the "sink" counts each batch's results; a record whose window has closed
 * is dropped. Per record, where Sluice and the hand loop move the watermark per batch, so a few
 * more records may be late here.
 *
 * @param {{ numBatches: number, batch: (b: number) => BenchEvent[], size: number, delay: number }} o
 * @returns {{ ms: number, emitted: number }}
 */
export function timeRxTumbling({ numBatches, batch, size, delay }) {
  /** @typedef {{ key: string, window: { start: number, end: number }, value: number }} RxResult */
  /** @typedef {{ windows: Map<number, Map<string, number>>, watermark: number, maxTime: number, nextEnd: number, out: RxResult[] }} RxState */
  /** @type {Subject<BenchEvent>} */
  const subject = new Subject();
  /** @type {RxState} */
  const initial = { windows: new Map(), watermark: -Infinity, maxTime: -Infinity, nextEnd: Infinity, out: [] };
  let final = initial;
  subject
    .pipe(
      scan((/** @type {RxState} */ s, /** @type {BenchEvent} */ e) => {
        if (e.time > s.maxTime) {
          s.maxTime = e.time;
          s.watermark = e.time - delay;
          if (s.watermark >= s.nextEnd) {
            s.nextEnd = Infinity;
            for (const [start, counts] of s.windows) {
              if (start + size <= s.watermark) {
                const window = { start, end: start + size };
                for (const [key, value] of counts) s.out.push({ key, window, value });
                s.windows.delete(start);
              } else if (start + size < s.nextEnd) {
                s.nextEnd = start + size;
              }
            }
          }
        }
        const start = Math.floor(e.time / size) * size;
        if (start + size <= s.watermark) return s;
        let counts = s.windows.get(start);
        if (counts === undefined) {
          s.windows.set(start, (counts = new Map()));
          if (start + size < s.nextEnd) s.nextEnd = start + size;
        }
        counts.set(e.key, (counts.get(e.key) ?? 0) + 1);
        return s;
      }, initial),
    )
    .subscribe((s) => {
      final = s;
    });
  let emitted = 0;
  // The sink: takes each batch's results.
  const step = (/** @type {number} */ _b, /** @type {BenchEvent[]} */ evs) => {
    for (const e of evs) subject.next(e);
    emitted += final.out.length;
    final.out = [];
  };
  const ms = timeBatches({ numBatches, batch, step, finish: () => subject.complete() });
  return { ms, emitted: emitted + final.out.length };
}

/**
 * Times a fresh {@link handWindows} over the batches.
 *
 * @param {{ numBatches: number, batch: (b: number) => BenchEvent[], size: number, delay: number, windowsOf: (t: number) => number[] }} o
 */
export function timeHandWindows({ numBatches, batch, size, delay, windowsOf }) {
  const loop = handWindows({ size, delay, windowsOf });
  return { ms: timeBatches({ numBatches, batch, step: loop.step }), emitted: loop.emitted() };
}

/** @param {{ scale: number, rounds?: number }} o @returns {Promise<BenchRow[]>} */
export async function tumblingScenario({ scale, rounds = 1 }) {
  const S = '2 event-time tumbling 1s count';
  const total = Math.round(10_000_000 * scale);
  const keys = keyNames(Math.round(100_000 * scale));
  const batchSize = Math.round(500_000 * scale);
  const numBatches = Math.ceil(total / batchSize);
  const events = numBatches * batchSize;
  const eventsPerSecond = Math.round(100_000 * scale); // 100 s of event time, 100 windows
  const delay = 1000;
  const batch = (/** @type {number} */ b) => makeBatch({ b, size: batchSize, keys, eventsPerSecond, jitterMs: 500 });

  const { sluice, hand } = await medianOf(rounds, {
    sluice: () => windowJob({ numBatches, batch, delay, assigner: tumbling(1000), agg: agg.count() }),
    hand: () => timeHandWindows({ numBatches, batch, size: 1000, delay, windowsOf: (t) => [Math.floor(t / 1000) * 1000] }),
  });
  const check = sluice.outputs === hand.emitted ? `outputs agree (${sluice.outputs})` : `OUTPUTS DIFFER sluice=${sluice.outputs} hand=${hand.emitted}`;
  // RxJS, a peer: once, after the interleaved runs.
  const rx = timeRxTumbling({ numBatches, batch, size: 1000, delay });
  // d2ts, a peer: once, over its first batches (no watermark: it keeps and updates every window).
  const d2 = timeD2tsTumbling({ numBatches, batch, size: 1000 });
  const d2Events = d2.batches * batchSize;
  return [
    row(S, 'sluice', events, sluice.ms, { note: `${numBatches} batches of ${batchSize}, ${keys.length} keys, watermark delay 1s; ${check}${runsNote(sluice, hand)}` }),
    row(S, 'hand nested-Map loop', events, hand.ms, { baseline: 'hand loop', ratio: hand.ms / sluice.ms, target: '>= 0.5' }),
    row(S, 'rxjs scan over a map of windows', events, rx.ms, { baseline: 'rxjs scan', ratio: rx.ms / sluice.ms, target: '>= 1.2', note: `${rx.emitted} windows emitted (per-record watermark; Sluice ${sluice.outputs})` }),
    row(S, 'd2ts count by (window, key)', d2Events, d2.ms, { baseline: 'd2ts count', ratio: (events / sluice.ms) / (d2Events / d2.ms), note: `first ${d2.batches} batches; ${d2.windows} window counts held at the end (updates, no watermark)` }),
  ];
}

/** @param {{ scale: number, rounds?: number }} o @returns {Promise<BenchRow[]>} */
export async function slidingScenario({ scale, rounds = 1 }) {
  /** @type {BenchRow[]} */
  const rows = [];
  // Event time: 60 s windows sliding every second. Smaller than the default 10M/100k input: the
  // brute-force baseline adds each event to 60 windows.
  {
    const S = '3a event-time sliding 60s/1s count';
    const total = Math.round(1_000_000 * scale);
    const keys = keyNames(Math.round(10_000 * scale));
    const batchSize = Math.round(50_000 * scale);
    const numBatches = Math.ceil(total / batchSize);
    const events = numBatches * batchSize;
    const eventsPerSecond = Math.round(10_000 * scale); // 100 s of event time
    const delay = 1000;
    const batch = (/** @type {number} */ b) => makeBatch({ b, size: batchSize, keys, eventsPerSecond, jitterMs: 500 });
    const run = (/** @type {import('sluice/windows').Aggregator<unknown, number, number>} */ agg) => windowJob({ numBatches, batch, delay, assigner: sliding(60_000, 1000), agg });
    const { inverse: _inverse, ...noInverse } = agg.count();
    const windowsOf = (/** @type {number} */ t) => {
      const last = Math.floor(t / 1000) * 1000;
      const starts = [];
      for (let s = last; s > t - 60_000; s -= 1000) starts.push(s);
      return starts;
    };
    const { inc, panes, brute } = await medianOf(rounds, {
      inc: () => run(agg.count()),
      panes: () => run(noInverse),
      brute: () => timeHandWindows({ numBatches, batch, size: 60_000, delay, windowsOf }),
    });
    const check = inc.outputs === brute.emitted && panes.outputs === inc.outputs ? `outputs agree (${inc.outputs})` : `OUTPUTS DIFFER inc=${inc.outputs} panes=${panes.outputs} brute=${brute.emitted}`;
    rows.push(
      row(S, 'sluice panes + inverse', events, inc.ms, { note: `${numBatches} batches of ${batchSize}, ${keys.length} keys; ${check}${runsNote(inc, brute)}` }),
      row(S, 'sluice panes, recombined (no inverse)', events, panes.ms, { baseline: 'sluice no inverse', ratio: panes.ms / inc.ms }),
      row(S, 'hand brute force (event into 60 windows)', events, brute.ms, { baseline: 'brute force', ratio: brute.ms / inc.ms, target: '>= 5' }),
    );
  }
  // Batch time: reduceByKeyAndWindow over 60 batches sliding every batch, with and without inverse.
  {
    const S = '3b batch-time reduceByKeyAndWindow 60 slides';
    const total = Math.round(10_000_000 * scale);
    const keys = keyNames(Math.round(100_000 * scale));
    const numBatches = 120;
    const batchSize = Math.ceil(total / numBatches);
    const events = numBatches * batchSize;
    const batch = (/** @type {number} */ b) => makeBatch({ b, size: batchSize, keys, eventsPerSecond: 100_000 });
    const run = (/** @type {((a: number, b: number) => number) | undefined} */ inverse) =>
      runSluice({
        numBatches,
        batch,
        build: (input) =>
          input.pipe(
            mapToPair((/** @type {BenchEvent} */ e) => [e.key, 1]),
            reduceByKeyAndWindow((a, b) => a + b, inverse, 60_000, 1000, { filter: ([, n]) => n !== 0 }),
          ),
      });
    const { inc, brute } = await medianOf(rounds, { inc: () => run((a, b) => a - b), brute: () => run(undefined) });
    const check = inc.outputs === brute.outputs ? `outputs agree (${inc.outputs})` : `OUTPUTS DIFFER inc=${inc.outputs} brute=${brute.outputs}`;
    rows.push(
      row(S, 'sluice with inverse', events, inc.ms, { note: `${numBatches} batches of ${batchSize}, ${keys.length} keys; ${check}${runsNote(inc, brute)}` }),
      row(S, 'sluice full recomputation', events, brute.ms, { baseline: 'recomputation', ratio: brute.ms / inc.ms, target: '>= 5' }),
    );
  }
  return rows;
}
