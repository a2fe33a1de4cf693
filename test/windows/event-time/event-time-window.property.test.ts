import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { foreachBatch, keyBy, union, type BatchProgress, type DStream } from 'sluice';
import { agg, calendar, eventTimeWindow, session, sliding, tumbling, withWatermark, type Aggregator, type CalendarUnit, type LatePolicy, type OutputMode, type WindowAssigner, type WindowOutput, isRetraction } from 'sluice/windows';
import { lateDataAccounting, runBatches, watermarkMonotonicity, type KeyedEvent, type RunBatchesOptions } from 'sluice/testing';

/*
 * Laws of eventTimeWindow, checked against models that never touch Sluice:
 *   a. accounting: every record is in exactly the results of its windows that were open when it
 *      arrived, or is late, and then counted once (dropped) or side-output once;
 *   b. append-mode results of on-time input (disorder within the delay) do not depend on the
 *      batching or the arrival order: they equal a brute-force windowing of all the events;
 *   c. incremental = recomputed: each result (sliding panes included, in every output mode)
 *      equals the aggregation of the records the window accepted so far;
 *   d. sessions of on-time input equal a brute-force sessionization of all the events (law b over
 *      session specs); with late records, each emitted session is one brute-force session of
 *      its records, and sessions follow the session rules of the model;
 *   e. the watermark never decreases and is `max event time of earlier batches - delay`;
 *   f. over a union, the watermark is the minimum of the active inputs, idle ones left out.
 * The operator model (`simulate`) states the documented rules one by one: at each batch, close
 * (append: emit) the windows with `end + allowedLateness <= watermark` (sessions: `<`), then add
 * the records, a record being late when all the windows it could belong to or merge into are
 * closed, then emit by the output mode (update and onTimeAndLate retracting the emitted sessions
 * that are gone).
 *
 * Not a law: with late records, a key's sessions can overlap. A record behind the watermark whose
 * own window `[t, t + gap)` is still open starts a session, even where it would have joined one
 * that closed already (Flink and Spark do the same: the closed session's state is gone).
 */

interface Ev {
  readonly id: number;
  readonly key: string;
  readonly t: number;
  readonly n: number;
}

type Spec =
  | { readonly kind: 'tumbling'; readonly size: number; readonly offset: number }
  | { readonly kind: 'sliding'; readonly size: number; readonly slide: number; readonly offset: number }
  | { readonly kind: 'session'; readonly gap: number };
type FixedSpec = Exclude<Spec, { kind: 'session' }>;
type AggKind = 'count' | 'sum' | 'collect';

/** A result as compared: key, window and value (for `collect`, the sorted record ids; `'retracted'` for a retraction). */
type Row = readonly [key: string, start: number, end: number, value: number | readonly number[] | 'retracted'];

interface Scenario {
  readonly spec: Spec;
  readonly agg: AggKind;
  readonly delay: number;
  readonly lateness: number;
  readonly late: LatePolicy;
  readonly mode: OutputMode;
  readonly partitions: number;
  readonly batches: readonly (readonly Ev[])[];
  /** Empty batches run after the input. */
  readonly extra: number;
}

// ---- Sluice side --------------------------------------------------------------------------------

function assignerOf(spec: Spec): WindowAssigner {
  switch (spec.kind) {
    case 'tumbling':
      return tumbling(spec.size, spec.offset);
    case 'sliding':
      return sliding(spec.size, spec.slide, spec.offset);
    case 'session':
      return session(spec.gap);
  }
}

function aggregatorOf(kind: AggKind): Aggregator<Ev, unknown, unknown> {
  const erased = <A, R>(agg: Aggregator<Ev, A, R>) => agg as unknown as Aggregator<Ev, unknown, unknown>;
  switch (kind) {
    case 'count':
      return erased(agg.count());
    case 'sum':
      return erased(agg.sum((e: Ev) => e.n));
    case 'collect':
      return erased(agg.collect<Ev>());
  }
}

function rowOf(agg: AggKind, r: WindowOutput<string, unknown>): Row {
  if (isRetraction(r)) return [r.key, r.window.start, r.window.end, 'retracted'];
  const value = agg === 'collect' ? ids(r.value as Ev[]) : (r.value as number);
  return [r.key, r.window.start, r.window.end, value];
}

interface Observed {
  readonly results: Row[][];
  /** The side output's record ids, per batch (only with `late: 'sideOutput'`). */
  readonly late: number[][];
  readonly dropped: number[];
  readonly watermarks: (number | undefined)[];
}

/** Collects every completed batch's progress. */
function progressInto(progress: BatchProgress[]): NonNullable<RunBatchesOptions['configure']> {
  return (ctx) => {
    ctx.addListener((e) => {
      if (e.type === 'batchCompleted') progress.push(e.progress);
    });
  };
}

async function runSluice(sc: Omit<Scenario, 'spec'>, assigner: WindowAssigner): Promise<Observed> {
  const late: number[][] = [];
  const progress: BatchProgress[] = [];
  const out = await runBatches(
    sc.batches,
    (s: DStream<Ev>) => {
      const windowed = s.pipe(
        withWatermark((e: Ev) => e.t, sc.delay),
        keyBy((e: Ev) => e.key),
        eventTimeWindow(assigner, aggregatorOf(sc.agg), { outputMode: sc.mode, late: sc.late, allowedLateness: sc.lateness }),
      );
      if (sc.late === 'sideOutput') windowed.lateRecords().pipe(foreachBatch((records) => void late.push(ids(records.map(([, e]) => e)))));
      return windowed;
    },
    { numPartitions: sc.partitions, numBatches: sc.batches.length + sc.extra, configure: progressInto(progress) },
  );
  return {
    results: out.map((batch) => sortRows(batch.map((r) => rowOf(sc.agg, r)))),
    late,
    dropped: progress.map((p) => p.lateRecordsDropped),
    watermarks: progress.map((p) => p.watermark),
  };
}

// ---- models -------------------------------------------------------------------------------------

const mod = (x: number, m: number): number => ((x % m) + m) % m;
const ids = (events: readonly Ev[]): number[] => events.map((e) => e.id).sort((a, b) => a - b);

/** Brute force: every window of a tumbling or sliding spec that holds the integer time `t`. */
function windowsOf(spec: FixedSpec, t: number): { start: number; end: number }[] {
  const step = spec.kind === 'tumbling' ? spec.size : spec.slide;
  const out = [];
  for (let s = t - spec.size + 1; s <= t; s++) if (mod(s - spec.offset, step) === 0) out.push({ start: s, end: s + spec.size });
  return out;
}

function valueOf(agg: AggKind, records: readonly Ev[]): number | number[] {
  switch (agg) {
    case 'count':
      return records.length;
    case 'sum':
      return records.reduce((n, e) => n + e.n, 0);
    case 'collect':
      return ids(records);
  }
}

function compareRows(a: Row, b: Row): number {
  if (a[0] !== b[0]) return a[0] < b[0] ? -1 : 1;
  if (a[1] !== b[1]) return a[1] - b[1];
  if (a[2] !== b[2]) return a[2] - b[2];
  return JSON.stringify(a[3]) < JSON.stringify(b[3]) ? -1 : JSON.stringify(a[3]) > JSON.stringify(b[3]) ? 1 : 0;
}
const sortRows = (rows: Row[]): Row[] => rows.sort(compareRows);

/** The watermark each batch uses: the largest event time of the earlier batches minus the delay. */
function plannedWatermarks(batches: readonly (readonly Ev[])[], numBatches: number, delay: number): (number | undefined)[] {
  let max: number | undefined;
  const out: (number | undefined)[] = [];
  for (let k = 0; k < numBatches; k++) {
    out.push(max === undefined ? undefined : max - delay);
    for (const e of batches[k] ?? []) max = Math.max(max ?? e.t, e.t);
  }
  return out;
}

interface Live {
  readonly key: string;
  start: number;
  end: number;
  records: Ev[];
}

/**
 * The operator's documented rules, one batch at a time, with the watermark `W` of the batch and
 * `Wp` of the one before. A window is passed by a time when `end <= time` (sessions: `end <
 * time`, as a record at `t = end` still joins a session); closed when passed by `W - lateness`
 * (never in complete mode); due when passed by `W`, and fired (onTimeAndLate) when passed by `Wp`.
 * Each batch: evict the closed windows (append: emit them; onTimeAndLate: emit those not fired),
 * then add the records, a record being late when every window it could belong to or merge into
 * has closed, then emit (update: the changed windows; onTimeAndLate: the due windows not fired or
 * changed; complete: all). Sessions are recomputed from scratch from the records they hold (the
 * connected components of `[t, t + gap]`); a record of the batch may join a session the batch's
 * other records made. Update and onTimeAndLate retract each emitted session that is gone.
 */
function simulate(sc: Scenario, watermarks = plannedWatermarks(sc.batches, sc.batches.length + sc.extra, sc.delay)): { results: Row[][]; late: number[][] } {
  const windows = new Map<string, Live>();
  /** Sessions: per key, the records of the key's open sessions. */
  const alive = new Map<string, Ev[]>();
  const results: Row[][] = [];
  const lateIds: number[][] = [];
  const isSession = sc.spec.kind === 'session';
  const passed = (w: { end: number }, time: number | undefined): boolean => time !== undefined && (isSession ? w.end < time : w.end <= time);
  const emit = (out: Row[], w: Live): void => void out.push([w.key, w.start, w.end, valueOf(sc.agg, w.records)]);
  watermarks.forEach((watermark, k) => {
    const batch = sc.batches[k] ?? [];
    const previous = k === 0 ? undefined : watermarks[k - 1];
    const closedUpTo = watermark === undefined || sc.mode === 'complete' ? undefined : watermark - sc.lateness;
    const fired = (w: Live): boolean => sc.mode === 'onTimeAndLate' && passed(w, previous);
    const emitsOnClose = (w: Live): boolean => sc.mode === 'append' || (sc.mode === 'onTimeAndLate' && !fired(w));
    const out: Row[] = [];
    const late: Ev[] = [];
    const { spec } = sc;
    if (spec.kind === 'session') {
      const sessionsOf = (key: string): Live[] => sessionize(alive.get(key) ?? [], spec.gap);
      const keys = [...new Set([...alive.keys(), ...batch.map((e) => e.key)])];
      for (const key of keys) {
        const open: Ev[] = [];
        for (const w of sessionsOf(key)) {
          if (!passed(w, closedUpTo)) open.push(...w.records);
          else if (emitsOnClose(w)) emit(out, w);
        }
        alive.set(key, open);
      }
      const before = new Map(keys.map((key) => [key, sessionsOf(key)]));
      // The least fixed point: a record joins when its own window is open or it meets a session.
      let pending = [...batch];
      for (let joined = true; joined; ) {
        joined = false;
        for (const e of pending) {
          const own = { start: e.t, end: e.t + spec.gap };
          if (passed(own, closedUpTo) && !sessionsOf(e.key).some((w) => w.start <= own.end && w.end >= own.start)) continue;
          alive.set(e.key, [...(alive.get(e.key) ?? []), e]);
          joined = true;
        }
        pending = pending.filter((e) => !(alive.get(e.key) ?? []).includes(e));
      }
      late.push(...pending);
      const retracting = sc.mode === 'update' || sc.mode === 'onTimeAndLate';
      for (const key of keys) {
        const after = sessionsOf(key);
        const id = (w: Live): string => `${w.start}/${w.end}`;
        const ids = new Set(after.map(id));
        const gone = (before.get(key) ?? []).filter((w) => !ids.has(id(w)));
        if (retracting) for (const w of gone) if (sc.mode === 'update' || fired(w)) out.push([key, w.start, w.end, 'retracted']);
        for (const w of after) {
          const changed = w.records.some((e) => batch.includes(e));
          if (sc.mode === 'complete' || (sc.mode === 'update' && changed) || (sc.mode === 'onTimeAndLate' && passed(w, watermark) && (!fired(w) || changed))) emit(out, w);
        }
      }
    } else {
      for (const [id, w] of windows) {
        if (!passed(w, closedUpTo)) continue;
        if (emitsOnClose(w)) emit(out, w);
        windows.delete(id);
      }
      const changed = new Set<Live>();
      for (const e of batch) {
        const open = windowsOf(spec, e.t).filter((w) => !passed(w, closedUpTo));
        if (open.length === 0) late.push(e);
        for (const { start, end } of open) {
          const id = `${e.key}/${start}/${end}`;
          const w = windows.get(id) ?? { key: e.key, start, end, records: [] };
          w.records.push(e);
          windows.set(id, w);
          changed.add(w);
        }
      }
      for (const w of windows.values()) {
        if (sc.mode === 'complete' || (sc.mode === 'update' && changed.has(w)) || (sc.mode === 'onTimeAndLate' && passed(w, watermark) && (!fired(w) || changed.has(w)))) emit(out, w);
      }
    }
    results.push(sortRows(out));
    lateIds.push(ids(late));
  });
  return { results, late: lateIds };
}

/** Brute-force sessions of one key's times: sorted, a new session where a time is past the current end (touching joins). */
function sessionize(events: readonly Ev[], gap: number): Live[] {
  const out: Live[] = [];
  for (const e of [...events].sort((a, b) => a.t - b.t)) {
    const last = out.at(-1);
    if (last !== undefined && e.t <= last.end) {
      last.end = Math.max(last.end, e.t + gap);
      last.records.push(e);
    } else {
      out.push({ key: e.key, start: e.t, end: e.t + gap, records: [e] });
    }
  }
  return out;
}

/** Brute force: every window of every event, aggregated (sessions: sessionized per key). */
function reference(spec: Spec, agg: AggKind, events: readonly Ev[]): Row[] {
  const groups = new Map<string, Live>();
  if (spec.kind === 'session') {
    const keys = [...new Set(events.map((e) => e.key))];
    return sortRows(keys.flatMap((key) => sessionize(events.filter((e) => e.key === key), spec.gap).map((s): Row => [key, s.start, s.end, valueOf(agg, s.records)])));
  }
  for (const e of events) {
    for (const { start, end } of windowsOf(spec, e.t)) {
      const id = `${e.key}/${start}/${end}`;
      const w = groups.get(id) ?? { key: e.key, start, end, records: [] };
      w.records.push(e);
      groups.set(id, w);
    }
  }
  return sortRows([...groups.values()].map((w): Row => [w.key, w.start, w.end, valueOf(agg, w.records)]));
}

// ---- generators ---------------------------------------------------------------------------------

const KEYS = ['a', 'b', 'c'] as const;
const FLUSH_KEY = 'zz';
const FAR = 1_000_000;

const tumblingSpec = fc.integer({ min: 1, max: 12 }).chain((size) => fc.record({ kind: fc.constant('tumbling' as const), size: fc.constant(size), offset: fc.integer({ min: 0, max: size - 1 }) }));
// Sizes that are not a multiple of the slide are allowed (panes of gcd(size, slide)): generate them too.
const slidingSpec = fc.integer({ min: 1, max: 6 }).chain((slide) =>
  fc.record({ kind: fc.constant('sliding' as const), size: fc.integer({ min: slide, max: 14 }), slide: fc.constant(slide), offset: fc.integer({ min: 0, max: slide - 1 }) }),
);
const sessionSpec = fc.record({ kind: fc.constant('session' as const), gap: fc.integer({ min: 1, max: 8 }) });
const fixedSpec: fc.Arbitrary<FixedSpec> = fc.oneof(tumblingSpec, slidingSpec);
const anySpec: fc.Arbitrary<Spec> = fc.oneof(tumblingSpec, slidingSpec, sessionSpec);
const aggKind = fc.constantFrom<AggKind>('count', 'sum', 'collect');

/** Gives events ids in order, from 1. */
function numbered(batches: readonly (readonly Omit<Ev, 'id'>[])[]): Ev[][] {
  let id = 0;
  return batches.map((batch) => batch.map((e) => ({ ...e, id: ++id })));
}

/** Input batches with disorder and late records: event times drift up by 8 a batch, up to 12 back or 8 ahead. */
const disorderedBatches = fc
  .array(fc.array(fc.record({ key: fc.constantFrom(...KEYS), dt: fc.integer({ min: -12, max: 8 }), n: fc.integer({ min: -3, max: 5 }) }), { maxLength: 5 }), { minLength: 1, maxLength: 7 })
  .map((batches) => numbered(batches.map((batch, k) => batch.map(({ key, dt, n }) => ({ key, t: 8 * k + dt, n })))));

/** The input followed by a batch with one record far in the future: its watermark closes every earlier window. */
const flushed = (batches: readonly Ev[][]): Ev[][] => [...batches, [{ id: 0, key: FLUSH_KEY, t: FAR, n: 0 }]];

/**
 * On-time input: events whose arrival order keeps each event time at least `max so far - delay`
 * (sorted by `t + jitter`, jitter in [0, delay]), cut into batches of random sizes, empty ones too.
 */
function onTime(timeArb: fc.Arbitrary<number>, delayArb: fc.Arbitrary<number>) {
  return fc
    .record({
      delay: delayArb,
      events: fc.array(fc.record({ key: fc.constantFrom(...KEYS), t: timeArb, n: fc.integer({ min: -3, max: 5 }), jitter: fc.double({ min: 0, max: 1, noNaN: true }) }), { maxLength: 25 }),
      sizes: fc.array(fc.integer({ min: 0, max: 7 }), { minLength: 1, maxLength: 6 }),
    })
    .map(({ delay, events, sizes }) => {
      const arrival = events.map((e, i) => ({ e: { id: i + 1, key: e.key, t: e.t, n: e.n }, at: e.t + e.jitter * delay }));
      arrival.sort((a, b) => a.at - b.at);
      const batches: Ev[][] = [];
      let i = 0;
      for (let b = 0; i < arrival.length; b++) {
        const size = sizes[b % sizes.length] as number;
        batches.push(arrival.slice(i, i + size).map((a) => a.e));
        i += size;
        if (sizes.every((s) => s === 0)) break;
      }
      if (i < arrival.length) batches.push(arrival.slice(i).map((a) => a.e));
      return { delay, events: arrival.map((a) => a.e), batches };
    });
}

/** Every emitted row of the real keys, over all batches. */
const emitted = (results: readonly Row[][]): Row[] => sortRows(results.flat().filter((r) => r[0] !== FLUSH_KEY));

// ---- laws ---------------------------------------------------------------------------------------

describe('eventTimeWindow laws', () => {
  it('a. accounting (tumbling, sliding): each record is in exactly the results of its windows open on arrival, or late and counted once', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          spec: fixedSpec,
          delay: fc.integer({ min: 0, max: 10 }),
          lateness: fc.integer({ min: 0, max: 4 }),
          late: fc.constantFrom<LatePolicy>('drop', 'sideOutput'),
          partitions: fc.integer({ min: 1, max: 3 }),
          batches: disorderedBatches.map(flushed),
        }),
        async (s) => {
          const sc: Scenario = { ...s, agg: 'collect', mode: 'append', extra: 1 };
          const got = await runSluice(sc, assignerOf(sc.spec));
          const seen = new Map<number, string[]>();
          const windowsSeen = new Set<string>();
          for (const [key, start, end, value] of got.results.flat()) {
            const id = `${key}/${start}/${end}`;
            expect(windowsSeen.has(id), `window ${id} emitted twice`).toBe(false);
            windowsSeen.add(id);
            expect((value as number[]).length).toBeGreaterThan(0);
            for (const record of value as number[]) seen.set(record, [...(seen.get(record) ?? []), id]);
          }
          const spec = s.spec;
          sc.batches.forEach((batch, k) => {
            const watermark = got.watermarks[k];
            const closedUpTo = watermark === undefined ? Number.NEGATIVE_INFINITY : watermark - s.lateness;
            const late: number[] = [];
            for (const e of batch) {
              const open = windowsOf(spec, e.t)
                .filter((w) => w.end > closedUpTo)
                .map((w) => `${e.key}/${w.start}/${w.end}`);
              if (e.key !== FLUSH_KEY) expect(seen.get(e.id) ?? [], `record ${e.id} (t ${e.t}, batch ${k})`).toEqual(open);
              if (open.length === 0) late.push(e.id);
            }
            if (s.late === 'drop') expect(got.dropped[k]).toBe(late.length);
            else expect([got.late[k], got.dropped[k]]).toEqual([late, 0]);
          });
          expect(got.results).toEqual(simulate(sc).results);
        },
      ),
    );
  });

  it('a. accounting (session): each record is in exactly one session, or late and counted once; sessions are whole', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          spec: sessionSpec,
          delay: fc.integer({ min: 0, max: 10 }),
          lateness: fc.integer({ min: 0, max: 4 }),
          late: fc.constantFrom<LatePolicy>('drop', 'sideOutput'),
          partitions: fc.integer({ min: 1, max: 3 }),
          batches: disorderedBatches.map(flushed),
        }),
        async (s) => {
          const sc: Scenario = { ...s, agg: 'collect', mode: 'append', extra: 1 };
          const got = await runSluice(sc, assignerOf(sc.spec));
          const byId = new Map(sc.batches.flat().map((e) => [e.id, e]));
          const placed = new Set<number>();
          for (const [key, start, end, value] of got.results.flat()) {
            const records = (value as number[]).map((id) => byId.get(id) as Ev);
            for (const e of records) {
              expect(placed.has(e.id), `record ${e.id} in two sessions`).toBe(false);
              placed.add(e.id);
              expect(e.key).toBe(key);
            }
            // A session's records form one brute-force session, and its window is theirs.
            expect(sessionize(records, s.spec.gap).map((w) => [w.start, w.end])).toEqual([[start, end]]);
          }
          const expected = simulate(sc);
          sc.batches.forEach((batch, k) => {
            const absent = ids(batch.filter((e) => e.key !== FLUSH_KEY && !placed.has(e.id)));
            expect(absent).toEqual(expected.late[k]);
            if (s.late === 'drop') expect(got.dropped[k]).toBe(absent.length);
            else expect([got.late[k], got.dropped[k]]).toEqual([absent, 0]);
          });
          expect(got.results).toEqual(expected.results);
        },
      ),
    );
  });

  // The kit's law of late-data accounting, beside the model-based law a above (which also pins the exact windows).
  it.each([
    ['tumbling(5)', tumbling(5), 0],
    ['tumbling(7, 3)', tumbling(7, 3), 2],
    ['sliding(12, 4)', sliding(12, 4), 0],
    ['sliding(10, 3, 1)', sliding(10, 3, 1), 3],
    ['session(6)', session(6), 0],
    ['session(4)', session(4), 2],
  ] as const)("a. the kit's lateDataAccounting holds for %s (allowed lateness %i)", async (_name, assigner, allowedLateness) => {
    await fc.assert(lateDataAccounting(fc, { assigner, delay: 8, allowedLateness, numPartitions: 3 }));
  });

  it('b. append results of on-time input do not depend on batching or arrival order: they equal brute-force windowing', async () => {
    await fc.assert(
      fc.asyncProperty(
        anySpec,
        aggKind,
        onTime(fc.integer({ min: 0, max: 80 }), fc.integer({ min: 0, max: 12 })),
        fc.integer({ min: 1, max: 3 }),
        async (spec, agg, { delay, events, batches }, partitions) => {
          const sc: Scenario = { spec, agg, delay, lateness: 0, late: 'drop', mode: 'append', partitions, batches: flushed(batches), extra: 1 };
          const got = await runSluice(sc, assignerOf(sc.spec));
          expect(got.dropped.every((n) => n === 0)).toBe(true);
          expect(emitted(got.results)).toEqual(reference(spec, agg, events));
        },
      ),
    );
  });

  it('c. incremental = recomputed: every update, onTimeAndLate and complete result equals the aggregate of the records the window accepted', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          spec: fc.oneof(slidingSpec, slidingSpec, tumblingSpec),
          agg: aggKind,
          mode: fc.constantFrom<OutputMode>('update', 'onTimeAndLate', 'complete'),
          delay: fc.integer({ min: 0, max: 10 }),
          lateness: fc.integer({ min: 0, max: 4 }),
          partitions: fc.integer({ min: 1, max: 3 }),
          batches: disorderedBatches,
          extra: fc.integer({ min: 0, max: 2 }),
        }),
        async (s) => {
          // Complete mode has no lateness (it never closes a window).
          const sc: Scenario = { ...s, lateness: s.mode === 'complete' ? 0 : s.lateness, late: 'drop' };
          const got = await runSluice(sc, assignerOf(sc.spec));
          const expected = simulate(sc);
          expect(got.results).toEqual(expected.results);
          expect(got.dropped).toEqual(expected.late.map((l) => l.length));
        },
      ),
    );
  });

  // Law d for on-time input (no record late) is law b over session specs: a brute-force sessionization of all events.
  it('d. sessions follow the session rules in every output mode, with late records', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          spec: sessionSpec,
          agg: aggKind,
          mode: fc.constantFrom<OutputMode>('append', 'update', 'onTimeAndLate', 'complete'),
          delay: fc.integer({ min: 0, max: 10 }),
          lateness: fc.integer({ min: 0, max: 4 }),
          partitions: fc.integer({ min: 1, max: 3 }),
          batches: disorderedBatches,
          extra: fc.integer({ min: 0, max: 2 }),
        }),
        async (s) => {
          // Complete mode has no lateness (it never closes a window).
          const sc: Scenario = { ...s, lateness: s.mode === 'complete' ? 0 : s.lateness, late: 'drop' };
          const got = await runSluice(sc, assignerOf(sc.spec));
          const expected = simulate(sc);
          expect(got.results).toEqual(expected.results);
          expect(got.dropped).toEqual(expected.late.map((l) => l.length));
        },
      ),
    );
  });

  it('e. the watermark never decreases and is the max event time of the earlier batches minus the delay', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 15 }), disorderedBatches, fc.integer({ min: 0, max: 3 }), async (delay, batches, extra) => {
        const sc: Scenario = { spec: { kind: 'tumbling', size: 5, offset: 0 }, agg: 'count', delay, lateness: 0, late: 'drop', mode: 'append', partitions: 2, batches, extra };
        const got = await runSluice(sc, assignerOf(sc.spec));
        expect(got.watermarks).toEqual(plannedWatermarks(batches, batches.length + extra, delay));
        const known = got.watermarks.filter((w) => w !== undefined);
        known.forEach((w, i) => {
          if (i > 0) expect(w).toBeGreaterThanOrEqual(known[i - 1] as number);
        });
      }),
    );
  });
});

describe("eventTimeWindow under the kit's watermarkMonotonicity (law e)", () => {
  it.each([0, 5, 15])('the watermark before and after eventTimeWindow never decreases nor passes the max earlier event time minus the delay %i', async (delay) => {
    await fc.assert(watermarkMonotonicity(fc, { delay }));
    await fc.assert(
      watermarkMonotonicity(fc, {
        delay,
        build: (s: DStream<KeyedEvent>) => s.pipe(keyBy((e: KeyedEvent) => e.key), eventTimeWindow(sliding(10, 5), agg.count(), { outputMode: 'update' })),
      }),
    );
  });
});

// ---- f. idle inputs -----------------------------------------------------------------------------

interface Input {
  readonly delay: number;
  readonly idleTimeout: number | undefined;
}

/**
 * The watermark each batch of a union of watermarked inputs uses (batch k runs at processing time
 * (k + 1) * 1000): each input's `max - delay` from the earlier batches; an input idle when its
 * idle timeout has passed since its last records (or since 0); the minimum over the active inputs
 * (all idle: the maximum), undefined while an active input has seen nothing, never going back.
 */
function unionWatermarks(inputs: readonly Input[], batches: readonly (readonly (readonly Ev[])[])[], numBatches: number): (number | undefined)[] {
  const max: (number | undefined)[] = inputs.map(() => undefined);
  const lastData = inputs.map(() => 0);
  let global: number | undefined;
  const out: (number | undefined)[] = [];
  for (let k = 0; k < numBatches; k++) {
    const now = (k + 1) * 1000;
    const planned = inputs.map((input, i) => {
      const m = max[i];
      return { value: m === undefined ? undefined : m - input.delay, idle: input.idleTimeout !== undefined && now - (lastData[i] ?? 0) >= input.idleTimeout };
    });
    const active = planned.filter((w) => !w.idle);
    const values = (active.length > 0 ? active : planned).map((w) => w.value);
    const known = values.filter((v) => v !== undefined);
    const combined = known.length === 0 || (active.length > 0 && known.length < active.length) ? undefined : active.length > 0 ? Math.min(...known) : Math.max(...known);
    if (combined !== undefined) global = Math.max(global ?? combined, combined);
    out.push(global);
    batches.forEach((input, i) => {
      for (const e of input[k] ?? []) {
        max[i] = Math.max(max[i] ?? e.t, e.t);
        lastData[i] = now;
      }
    });
  }
  return out;
}

describe('eventTimeWindow over a union (law f)', () => {
  const input = fc.record({ delay: fc.integer({ min: 0, max: 10 }), idleTimeout: fc.option(fc.integer({ min: 500, max: 3500 }), { nil: undefined }) });
  // Bursty inputs: about half the batches are empty, so inputs go idle and wake up.
  const bursty = fc.array(fc.oneof(fc.constant([]), fc.array(fc.record({ key: fc.constantFrom(...KEYS), dt: fc.integer({ min: -12, max: 8 }), n: fc.constant(1) }), { minLength: 1, maxLength: 3 })), {
    minLength: 1,
    maxLength: 8,
  });

  it('uses the minimum watermark of the active inputs; an input idle past its timeout no longer holds it back', async () => {
    await fc.assert(
      fc.asyncProperty(input, input, bursty, bursty, async (left, right, l, r) => {
        const length = Math.max(l.length, r.length);
        const timed = (batches: typeof l) => Array.from({ length }, (_, k) => (batches[k] ?? []).map(({ key, dt, n }) => ({ key, t: 8 * k + dt, n })));
        const [lb, rb] = ((all) => [all.slice(0, length), all.slice(length)])(numbered([...timed(l), ...timed(r)]));
        const progress: BatchProgress[] = [];
        const numBatches = length + 2;
        const out = await runBatches({ left: lb, right: rb },
          ({ left: a, right: b }: { left: DStream<Ev>; right: DStream<Ev> }) =>
            a.pipe(
              withWatermark((e: Ev) => e.t, left.delay, left.idleTimeout === undefined ? {} : { idleTimeout: left.idleTimeout }),
              union(b.pipe(withWatermark((e: Ev) => e.t, right.delay, right.idleTimeout === undefined ? {} : { idleTimeout: right.idleTimeout }))),
              keyBy((e: Ev) => e.key),
              eventTimeWindow(tumbling(5), agg.collect<Ev>()),
            ),
          { numPartitions: 2, numBatches, configure: progressInto(progress) },
        );
        const watermarks = unionWatermarks([left, right], [lb, rb], numBatches);
        expect(progress.map((p) => p.watermark)).toEqual(watermarks);
        // The operator closes windows and drops late records by that watermark.
        const sc: Scenario = {
          spec: { kind: 'tumbling', size: 5, offset: 0 },
          agg: 'collect',
          delay: 0,
          lateness: 0,
          late: 'drop',
          mode: 'append',
          partitions: 2,
          batches: lb.map((batch, k) => [...batch, ...(rb[k] ?? [])]),
          extra: 2,
        };
        const expected = simulate(sc, watermarks);
        expect(out.map((batch) => sortRows(batch.map((row) => rowOf('collect', row))))).toEqual(expected.results);
        expect(progress.map((p) => p.lateRecordsDropped)).toEqual(expected.late.map((ids) => ids.length));
      }),
    );
  });

  it('keeps its watermark when an idle input wakes up with old events', async () => {
    const ev = (id: number, t: number): Ev => ({ id, key: 'a', t, n: 1 });
    const progress: BatchProgress[] = [];
    const out = await runBatches({ left: [[ev(1, 50)], [ev(2, 60)], [], [], [ev(3, 70)], []], right: [[ev(4, 5)], [], [], [], [ev(5, 8)], []] },
      ({ left: a, right: b }: { left: DStream<Ev>; right: DStream<Ev> }) =>
        a.pipe(withWatermark((e: Ev) => e.t, 0), union(b.pipe(withWatermark((e: Ev) => e.t, 0, { idleTimeout: 2000 }))), keyBy((e: Ev) => e.key), eventTimeWindow(tumbling(10), agg.count())),
      { numPartitions: 1, configure: progressInto(progress) },
    );
    // min(50, 5); the slow input, last fed at 1000, is idle from 3000 (batch 2): 60. It wakes up
    // at 5000 with 8: min(70, 8) = 8 for batch 5, but the watermark stays at 60.
    expect(progress.map((p) => p.watermark)).toEqual([undefined, 5, 60, 60, 60, 60]);
    expect(out.map((batch) => batch.map((r) => [r.window.start, r.value]))).toEqual([[], [], [[0, 1], [50, 1]], [], [], []]);
    // a@8 arrived when [0, 10) had closed: dropped.
    expect(progress.map((p) => p.lateRecordsDropped)).toEqual([0, 0, 0, 0, 1, 0]);
  });
});

// ---- calendar windows ---------------------------------------------------------------------------

const HOUR = 3_600_000;
const formats = new Map<string, Intl.DateTimeFormat>();

/** The local calendar unit of `t` in `zone`, from Intl (not luxon): `2024-03-31`, the Monday of its ISO week, or `2024-03`. */
function localUnit(t: number, zone: string, unit: CalendarUnit): string {
  let format = formats.get(zone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat('en-US', { timeZone: zone, year: 'numeric', month: 'numeric', day: 'numeric', weekday: 'short' });
    formats.set(zone, format);
  }
  const parts = Object.fromEntries(format.formatToParts(t).map((p) => [p.type, p.value]));
  const [y, m, d] = [Number(parts.year), Number(parts.month), Number(parts.day)];
  const back = unit === 'week' ? ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'].indexOf(String(parts.weekday)) : 0;
  const date = new Date(Date.UTC(y, m - 1, d - back)).toISOString();
  return unit === 'month' ? date.slice(0, 7) : date.slice(0, 10);
}

describe('eventTimeWindow with calendar windows', () => {
  // Eight days from before the spring and the autumn daylight-saving changes and month ends.
  const bases = [Date.UTC(2024, 2, 27, 5), Date.UTC(2024, 9, 24, 5)];

  it('b. on-time input gives one result per key and local day, ISO week or month, whatever the batching (UTC, Europe/Berlin)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('UTC', 'Europe/Berlin'),
        fc.constantFrom<CalendarUnit>('day', 'week', 'month'),
        fc.constantFrom(...bases),
        aggKind,
        onTime(fc.integer({ min: 0, max: 8 * 24 * 4 }).map((quarter) => quarter * (HOUR / 4)), fc.integer({ min: 0, max: 30 }).map((h) => h * HOUR)),
        async (zone, unit, base, agg, { delay, events, batches }) => {
          const shift = (e: Ev): Ev => ({ ...e, t: base + e.t });
          const far: Ev = { id: 0, key: FLUSH_KEY, t: base + 200 * 24 * HOUR, n: 0 };
          const sc = { agg, delay, lateness: 0, late: 'drop' as const, mode: 'append' as const, partitions: 2, batches: [...batches.map((b) => b.map(shift)), [far]], extra: 1 };
          const got = await runSluice(sc, calendar({ unit, zone }));
          expect(got.dropped.every((n) => n === 0)).toBe(true);
          const rows = emitted(got.results);
          for (const [, start, end] of rows) {
            // [start, end) is exactly one local unit: its first and last millisecond, and no more.
            const label = localUnit(start, zone, unit);
            expect([localUnit(end - 1, zone, unit), localUnit(start - 1, zone, unit) === label, localUnit(end, zone, unit) === label]).toEqual([label, false, false]);
          }
          const groups = new Map<string, Ev[]>();
          for (const e of events.map(shift)) {
            const id = `${e.key} ${localUnit(e.t, zone, unit)}`;
            groups.set(id, [...(groups.get(id) ?? []), e]);
          }
          const expected = [...groups].map(([id, records]) => `${id} ${JSON.stringify(valueOf(agg, records))}`).sort();
          expect(rows.map(([key, start, , value]) => `${key} ${localUnit(start, zone, unit)} ${JSON.stringify(value)}`).sort()).toEqual(expected);
        },
      ),
    );
  });
});

/** Pinned counterexamples of the laws above. */
describe('eventTimeWindow regressions', () => {
  const ev = (id: number, key: string, t: number): Ev => ({ id, key, t, n: 1 });
  const countRows = (spec: Spec, batches: Ev[][], mode: OutputMode = 'append', numBatches = batches.length) =>
    runBatches(batches, (s: DStream<Ev>) => s.pipe(withWatermark((e: Ev) => e.t, 0), keyBy((e: Ev) => e.key), eventTimeWindow(assignerOf(spec), agg.count(), { outputMode: mode })), {
      numPartitions: 1,
      numBatches,
    }).then((out) => out.map((batch) => sortRows(batch.map((r) => rowOf('count', r)))));

  it('a sliding record whose first windows have closed counts only in its open ones: a closed window is not emitted again', async () => {
    // Watermark 2 before batch 1 closes a's [-3,1) and [-2,2); a@1 then opens a new pane of [-2,2).
    const input = [[ev(1, 'a', 0), ev(2, 'b', 2)], [ev(3, 'a', 1)], [ev(4, 'zz', 100)]];
    const spec: Spec = { kind: 'sliding', size: 4, slide: 1, offset: 0 };
    const out = await countRows(spec, input, 'append', 4);
    expect(out.slice(0, 3)).toEqual([[], [['a', -3, 1, 1], ['a', -2, 2, 1]], []]);
    expect(out[3]?.filter((r) => r[0] === 'a')).toEqual([['a', -1, 3, 2], ['a', 0, 4, 2], ['a', 1, 5, 1]]);
    const updates = await countRows(spec, input, 'update');
    expect(updates[1]).toEqual([['a', -1, 3, 2], ['a', 0, 4, 2], ['a', 1, 5, 1]]);
  });

  it('a session that ends at the watermark stays open: an on-time record at its end joins it', async () => {
    // Watermark 10 before batch 1; a@10 is on time and touches [0, 10).
    const out = await countRows({ kind: 'session', gap: 10 }, [[ev(1, 'a', 0), ev(2, 'b', 10)], [ev(3, 'a', 10)], [ev(4, 'zz', 100)]], 'append', 4);
    expect(out).toEqual([[], [], [], [['a', 0, 20, 2], ['b', 10, 20, 1]]]);
  });

  it('whether a session record is late does not depend on the order of the records in its batch', async () => {
    // Watermark 100 before batch 1. a@95 opens [95, 105); a@89 ([89, 99) closed on its own) meets
    // it, then a@84 meets a@89's: both join, whatever came first. a@70 meets nothing: late.
    const batches = [[ev(2, 'a', 95), ev(3, 'a', 89), ev(4, 'a', 84), ev(5, 'a', 70)], [ev(5, 'a', 70), ev(4, 'a', 84), ev(3, 'a', 89), ev(2, 'a', 95)]];
    for (const batch1 of batches) {
      const out = await countRows({ kind: 'session', gap: 10 }, [[ev(1, 'b', 100)], batch1, [ev(6, 'zz', 1000)]], 'append', 4);
      expect(out[3]?.filter((r) => r[0] === 'a')).toEqual([['a', 84, 105, 3]]);
    }
  });
});
