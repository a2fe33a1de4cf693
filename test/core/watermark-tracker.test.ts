import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { combineWatermarks, type PlannedWatermark, type WatermarkPolicy } from 'sluice/extend';
import { WatermarkTracker } from '../../core/watermark-tracker.js';

const wm = (value: number | null, idle = false): PlannedWatermark => ({ value, idle });

/** A tracker with streams 1, 2, ... registered with these policies. */
function trackerOf(...policies: WatermarkPolicy[]): WatermarkTracker {
  const tracker = new WatermarkTracker();
  policies.forEach((policy, i) => {
    tracker.register(i + 1, policy);
  });
  return tracker;
}

/** Runs one batch the way the batch runner does: plan, observe, then commit or abort. */
function batch(tracker: WatermarkTracker, processingTime: number, observed: Record<number, number | null>, outcome: 'commit' | 'abort' = 'commit') {
  const planned = tracker.plan(processingTime, 0);
  for (const [id, max] of Object.entries(observed)) tracker.observe(Number(id), max, processingTime);
  if (outcome === 'commit') tracker.committed();
  else tracker.aborted();
  return planned;
}

describe('combineWatermarks', () => {
  it('is undefined without inputs', () => {
    expect(combineWatermarks([])).toBeUndefined();
  });

  it('is the minimum of the active inputs', () => {
    expect(combineWatermarks([wm(7), wm(3), wm(5)])).toBe(3);
    expect(combineWatermarks([wm(-4)])).toBe(-4);
  });

  it('is undefined while an active input has seen no event', () => {
    expect(combineWatermarks([wm(7), wm(null)])).toBeUndefined();
  });

  it('leaves idle inputs out of the minimum, even those that have seen no event', () => {
    expect(combineWatermarks([wm(7), wm(3, true)])).toBe(7);
    expect(combineWatermarks([wm(7), wm(null, true)])).toBe(7);
  });

  it('is the maximum of the known watermarks when every input is idle', () => {
    expect(combineWatermarks([wm(7, true), wm(3, true), wm(null, true)])).toBe(7);
    expect(combineWatermarks([wm(null, true), wm(null, true)])).toBeUndefined();
  });

  it('is a minimum over the active inputs and a maximum over all-idle ones, whatever the order (property)', () => {
    const input = fc.record({ value: fc.option(fc.integer({ min: -50, max: 50 })), idle: fc.boolean() });
    fc.assert(
      fc.property(fc.array(input, { maxLength: 6 }), (inputs) => {
        const got = combineWatermarks(inputs);
        const active = inputs.filter((w) => !w.idle);
        const pool = active.length > 0 ? active : inputs;
        const known = pool.flatMap((w) => (w.value === null ? [] : [w.value]));
        const expected =
          inputs.length === 0 || known.length === 0 || (active.length > 0 && known.length < active.length)
            ? undefined
            : active.length > 0
              ? Math.min(...known)
              : Math.max(...known);
        expect(got).toBe(expected);
        expect(combineWatermarks([...inputs].reverse())).toBe(got);
      }),
    );
  });
});

describe("combineWatermarks by 'max'", () => {
  it('is the maximum of the active inputs that have seen an event', () => {
    expect(combineWatermarks([wm(7), wm(3), wm(5)], 'max')).toBe(7);
    expect(combineWatermarks([wm(7), wm(null)], 'max')).toBe(7);
    expect(combineWatermarks([wm(null), wm(null)], 'max')).toBeUndefined();
    expect(combineWatermarks([], 'max')).toBeUndefined();
  });

  it('leaves idle inputs out, unless all are idle', () => {
    expect(combineWatermarks([wm(3), wm(9, true)], 'max')).toBe(3);
    expect(combineWatermarks([wm(null), wm(9, true)], 'max')).toBeUndefined();
    expect(combineWatermarks([wm(3, true), wm(9, true)], 'max')).toBe(9);
  });

  it("is defined whenever 'min' is, and never below it, whatever the order (property)", () => {
    const input = fc.record({ value: fc.option(fc.integer({ min: -50, max: 50 })), idle: fc.boolean() });
    fc.assert(
      fc.property(fc.array(input, { maxLength: 6 }), (inputs) => {
        const max = combineWatermarks(inputs, 'max');
        const min = combineWatermarks(inputs, 'min');
        const active = inputs.filter((w) => !w.idle);
        const known = (active.length > 0 ? active : inputs).flatMap((w) => (w.value === null ? [] : [w.value]));
        expect(max).toBe(known.length === 0 ? undefined : Math.max(...known));
        if (min !== undefined) expect(max).toBeGreaterThanOrEqual(min);
        expect(combineWatermarks([...inputs].reverse(), 'max')).toBe(max);
      }),
    );
  });
});

describe('WatermarkTracker', () => {
  it('is inactive until a stream registers', () => {
    const tracker = new WatermarkTracker();
    expect(tracker.active).toBe(false);
    expect(tracker.plan(1000, 0)).toEqual({ watermarks: {}, global: undefined });
    tracker.register(4, { delay: 0, idleTimeout: undefined });
    expect(tracker.active).toBe(true);
    expect(tracker.has(4)).toBe(true);
    expect(tracker.has(5)).toBe(false);
  });

  it('plans null (no global watermark) before the first event, and after batches without records', () => {
    const tracker = trackerOf({ delay: 5, idleTimeout: undefined });
    expect(batch(tracker, 1000, { 1: null })).toEqual({ watermarks: { '1': wm(null) }, global: undefined });
    expect(batch(tracker, 2000, {})).toEqual({ watermarks: { '1': wm(null) }, global: undefined });
  });

  it('plans max event time - delay, computed when batch k commits and used by batch k + 1', () => {
    const tracker = trackerOf({ delay: 5, idleTimeout: undefined });
    expect(batch(tracker, 1000, { 1: 20 }).global).toBeUndefined();
    expect(batch(tracker, 2000, { 1: 12 }).watermarks).toEqual({ '1': wm(15) });
    // A smaller max event time leaves the watermark where it was.
    expect(tracker.plan(3000, 0)).toEqual({ watermarks: { '1': wm(15) }, global: 15 });
  });

  it('takes the largest of several observations in one batch', () => {
    const tracker = trackerOf({ delay: 0, idleTimeout: undefined });
    tracker.plan(1000, 0);
    tracker.observe(1, 3, 1000);
    tracker.observe(1, 9, 1000);
    tracker.observe(1, null, 1000);
    tracker.observe(1, 4, 1000);
    tracker.committed();
    expect(tracker.plan(2000, 0).global).toBe(9);
  });

  it('ignores observations of streams it does not track', () => {
    const tracker = trackerOf({ delay: 0, idleTimeout: undefined });
    batch(tracker, 1000, { 1: 4, 7: 100 });
    expect(tracker.plan(2000, 0)).toEqual({ watermarks: { '1': wm(4) }, global: 4 });
  });

  it('drops the observations of an aborted batch, and a retry observes afresh', () => {
    const tracker = trackerOf({ delay: 0, idleTimeout: 1500 });
    batch(tracker, 1000, { 1: 10 });
    batch(tracker, 2000, { 1: 50 }, 'abort');
    expect(tracker.plan(2000, 0)).toEqual({ watermarks: { '1': wm(10) }, global: 10 });
    // The aborted batch did not count as data either: idle 1.5 s after the last committed one.
    expect(tracker.plan(2500, 0).watermarks).toEqual({ '1': wm(10, true) });
    batch(tracker, 3000, { 1: 30 });
    expect(tracker.plan(4000, 0).global).toBe(30);
  });

  it('marks a stream idle once idleTimeout has passed since its last records (or since zero time)', () => {
    const tracker = trackerOf({ delay: 0, idleTimeout: 2000 }, { delay: 0, idleTimeout: undefined });
    expect(tracker.plan(1999, 0).watermarks).toEqual({ '1': wm(null), '2': wm(null) });
    expect(tracker.plan(2000, 0).watermarks).toEqual({ '1': wm(null, true), '2': wm(null) });
    // Relative to the zero time passed in.
    expect(tracker.plan(2000, 500).watermarks['1']).toEqual(wm(null));
    batch(tracker, 3000, { 1: 40, 2: 10 });
    expect(tracker.plan(4999, 0).watermarks).toEqual({ '1': wm(40), '2': wm(10) });
    expect(tracker.plan(5000, 0).watermarks).toEqual({ '1': wm(40, true), '2': wm(10) });
  });

  it("by 'max', plans the global watermark of the fastest active stream, and records the policy in its snapshots", () => {
    const tracker = trackerOf({ delay: 0, idleTimeout: undefined }, { delay: 0, idleTimeout: undefined });
    expect(tracker.policy).toBe('min');
    tracker.setPolicy('max');
    expect(batch(tracker, 1000, { 1: 5 }).global).toBeUndefined();
    // Stream 2 has seen no event: by 'max' it does not hold the global watermark back.
    expect(batch(tracker, 2000, { 2: 40 }).global).toBe(5);
    expect(tracker.plan(3000, 0).global).toBe(40);
    expect(tracker.snapshot()).toMatchObject({ global: 40, policy: 'max' });
    tracker.observe(1, 50, 3000);
    expect(tracker.pendingSnapshot().policy).toBe('max');
  });

  it('records no policy in its snapshots without watermarked streams (none is in force)', () => {
    const tracker = new WatermarkTracker();
    tracker.setPolicy('max');
    expect(tracker.snapshot()).toEqual({ streams: {}, global: null });
    expect(tracker.pendingSnapshot()).toEqual({ streams: {}, global: null });
  });

  it('keeps its policy when a snapshot is restored (the recovery sets it)', () => {
    const tracker = trackerOf({ delay: 0, idleTimeout: undefined });
    tracker.setPolicy('max');
    tracker.restore({ streams: { '1': { maxEventTime: 9, watermark: 9, lastDataAt: 0 } }, global: 9 });
    expect(tracker.policy).toBe('max');
  });

  it('uses the minimum over active streams; an idle stream stops holding it back; the global never goes back', () => {
    const tracker = trackerOf({ delay: 0, idleTimeout: 2000 }, { delay: 0, idleTimeout: undefined });
    batch(tracker, 1000, { 1: 5, 2: 40 });
    expect(batch(tracker, 2000, { 2: 60 }).global).toBe(5);
    // Stream 1 last had records at 1000: idle from 3000 on.
    expect(batch(tracker, 3000, {}).global).toBe(60);
    // Stream 1 wakes up with an old event: its own watermark is 5 again, the global stays at 60.
    batch(tracker, 4000, { 1: 6 });
    expect(tracker.plan(5000, 0)).toEqual({ watermarks: { '1': wm(6), '2': wm(60) }, global: 60 });
  });
});

/*
 * The tracker's law under any sequence of batches (plan; observe each stream with a max event
 * time or none; commit or abort): each stream's planned watermark is the largest committed event
 * time minus its delay (null before one), never decreasing; its idle flag follows its last
 * committed records; the global watermark is the running maximum of the combined watermarks;
 * and a run with the aborted batches' observations left out plans exactly the same.
 */
describe('WatermarkTracker (property)', () => {
  const policy = fc.record({ delay: fc.integer({ min: 0, max: 10 }), idleTimeout: fc.option(fc.integer({ min: 1, max: 4000 }), { nil: undefined }) });
  const step = fc.record({
    advance: fc.integer({ min: 0, max: 1500 }),
    observed: fc.array(fc.option(fc.integer({ min: -20, max: 80 })), { maxLength: 3 }),
    outcome: fc.constantFrom('commit' as const, 'commit' as const, 'abort' as const),
  });

  it('never decreases, ignores aborted batches and follows the idle and minimum rules', () => {
    fc.assert(
      fc.property(fc.array(policy, { minLength: 1, maxLength: 3 }), fc.array(step, { maxLength: 25 }), (policies, steps) => {
        const tracker = trackerOf(...policies);
        const withoutAborts = trackerOf(...policies);
        const max: (number | null)[] = policies.map(() => null);
        const lastData: (number | null)[] = policies.map(() => null);
        let previous: Record<string, PlannedWatermark> | undefined;
        let global: number | undefined;
        let now = 0;
        for (const { advance, observed, outcome } of steps) {
          now += advance;
          const planned = tracker.plan(now, 0);
          const expected: Record<string, PlannedWatermark> = {};
          policies.forEach((p, i) => {
            const m = max[i] ?? null;
            const idle = p.idleTimeout !== undefined && now - (lastData[i] ?? 0) >= p.idleTimeout;
            expected[String(i + 1)] = wm(m === null ? null : m - p.delay, idle);
          });
          expect(planned.watermarks).toEqual(expected);
          for (const [id, w] of Object.entries(planned.watermarks)) {
            const before = previous?.[id]?.value ?? null;
            if (before !== null) expect(w.value).not.toBeNull();
            if (before !== null && w.value !== null) expect(w.value).toBeGreaterThanOrEqual(before);
          }
          const combined = combineWatermarks(Object.values(expected));
          if (combined !== undefined) global = Math.max(global ?? combined, combined);
          expect(planned.global).toBe(global);
          expect(withoutAborts.plan(now, 0)).toEqual(planned);
          previous = planned.watermarks;

          observed.forEach((m, i) => {
            if (i < policies.length) tracker.observe(i + 1, m, now);
          });
          if (outcome === 'abort') {
            tracker.aborted();
            continue;
          }
          tracker.committed();
          observed.forEach((m, i) => {
            if (i >= policies.length) return;
            withoutAborts.observe(i + 1, m, now);
            if (m === null) return;
            max[i] = Math.max(max[i] ?? m, m);
            lastData[i] = now;
          });
          withoutAborts.committed();
        }
      }),
    );
  });
});

/*
 * The two policies side by side: two trackers fed the same batches (one 'min', one 'max') plan the
 * same per-stream watermarks; each global watermark never decreases; and the 'max' one is defined
 * whenever the 'min' one is, and never below it.
 */
describe("WatermarkTracker by 'min' and by 'max' (property)", () => {
  const policy = fc.record({ delay: fc.integer({ min: 0, max: 10 }), idleTimeout: fc.option(fc.integer({ min: 1, max: 4000 }), { nil: undefined }) });
  const step = fc.record({ advance: fc.integer({ min: 0, max: 1500 }), observed: fc.array(fc.option(fc.integer({ min: -20, max: 80 })), { maxLength: 3 }) });

  it("plans a global watermark by 'max' at or above the one by 'min', both never decreasing", () => {
    fc.assert(
      fc.property(fc.array(policy, { minLength: 1, maxLength: 3 }), fc.array(step, { maxLength: 25 }), (policies, steps) => {
        const byMin = trackerOf(...policies);
        const byMax = trackerOf(...policies);
        byMax.setPolicy('max');
        let before: { min: number | undefined; max: number | undefined } = { min: undefined, max: undefined };
        let now = 0;
        for (const { advance, observed } of steps) {
          now += advance;
          const min = byMin.plan(now, 0);
          const max = byMax.plan(now, 0);
          expect(max.watermarks).toEqual(min.watermarks);
          const combined = combineWatermarks(Object.values(max.watermarks), 'max');
          expect(max.global).toBe(combined === undefined ? before.max : Math.max(before.max ?? combined, combined));
          if (min.global !== undefined) expect(max.global).toBeGreaterThanOrEqual(min.global);
          if (before.min !== undefined) expect(min.global).toBeGreaterThanOrEqual(before.min);
          if (before.max !== undefined) expect(max.global).toBeGreaterThanOrEqual(before.max);
          before = { min: min.global, max: max.global };
          for (const tracker of [byMin, byMax]) {
            observed.forEach((m, i) => {
              if (i < policies.length) tracker.observe(i + 1, m, now);
            });
            tracker.committed();
          }
        }
      }),
    );
  });
});
