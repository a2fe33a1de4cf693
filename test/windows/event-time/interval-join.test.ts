import { describe, expect, it } from 'vitest';
import { foreachBatch, mapPartitions, type DStream, type Pair } from 'sluice';
import { LevelStateBackend } from 'sluice/state';
import { intervalJoin, type EventTimeJoinOptions, type JoinType } from 'sluice/windows';
import { useTempDirs } from '../../support/temp-dir.js';
import { ev, ids, runJoin, type Ev, type RunJoinOptions } from './join-harness.js';

const tempDir = useTempDirs('sluice-interval-join-');

/*
 * One scenario for every join type: bounds [-2, 3] (a right record at r joins a left one at l
 * when l - 2 <= r <= l + 3), watermark delay 0 on both sides. The operator's watermark W is
 * min(left, right): undefined in batches 0 and 1 (the right side has seen nothing before batch
 * 1), then 10, 12, 20, 20. With h = W, a record below h is late; left records are evicted once
 * l + 3 < h, right ones once r + 2 < h (r - lowerBound).
 *   b0: left a10, b5 buffered.
 *   b1: right a12 joins a10; right a7 joins nothing (7 < 10 - 2).
 *   b2 (h 10): left a20 joins nothing; right a11 joins a10; right a9 is late (9 < 10), though it
 *       would have joined a10. Evicted: left b5 (5 + 3 < 10, unmatched), right a7 (7 + 2 < 10,
 *       unmatched).
 *   b3 (h 12): right a30 joins nothing (a20 + 3 < 30); nothing is evicted.
 *   b4 (h 20): left a10, right a11 and a12 evicted (all matched). a20 and a30 stay.
 */
const left = [[ev('a', 10), ev('b', 5)], [], [ev('a', 20)], [], []];
const right = [[], [ev('a', 12), ev('a', 7)], [ev('a', 11), ev('a', 9)], [ev('a', 30)], []];
const bounds = { lowerBound: -2, upperBound: 3 };

const joined = (options: EventTimeJoinOptions<JoinType>) => (l: DStream<Pair<string, Ev>>, r: DStream<Pair<string, Ev>>) => l.pipe(intervalJoin(r, bounds, options)) as DStream<Pair<string, unknown>>;

async function scenario(type: JoinType, options: RunJoinOptions = {}) {
  return runJoin(left, right, joined({ type, name: 'j' }), 'j', { numBatches: 6, ...options });
}

describe('intervalJoin: every join type on one scenario', () => {
  const expected: Record<JoinType, string[][]> = {
    inner: [[], ['a10+a12'], ['a10+a11'], [], [], []],
    leftOuter: [[], ['a10+a12'], ['a10+a11', 'b5+-'], [], [], []],
    rightOuter: [[], ['a10+a12'], ['a10+a11', '-+a7'], [], [], []],
    fullOuter: [[], ['a10+a12'], ['a10+a11', 'b5+-', '-+a7'], [], [], []],
    leftSemi: [[], ['a10'], [], [], [], []],
  };
  for (const type of Object.keys(expected) as JoinType[]) {
    it(`${type}: matches across batches, late records dropped, outer rows in the batch whose watermark evicts them`, async () => {
      const run = await scenario(type);
      expect(ids(run)).toEqual(expected[type]);
      expect(run.map((b) => b.dropped)).toEqual([0, 0, 1, 0, 0, 0]);
      expect(run.map((b) => b.watermark)).toEqual([undefined, undefined, 10, 12, 20, 20]);
      expect(run.map((b) => b.stateRows)).toEqual([2, 4, 4, 5, 2, 2]);
    });
  }

  it('the LevelDB backend gives the same rows and state as memory', async () => {
    const stateBackend = await LevelStateBackend.open(await tempDir());
    const run = await scenario('fullOuter', { stateBackend });
    expect(ids(run)).toEqual(expected.fullOuter);
    expect(run.map((b) => b.stateRows)).toEqual([2, 4, 4, 5, 2, 2]);
  });

  it('allowedLateness keeps a record within it on time and the state that longer', async () => {
    const run = await runJoin(left, right, joined({ type: 'fullOuter', name: 'j', allowedLateness: 1 }), 'j', { numBatches: 6 });
    // h = W - 1: in b2 (h 9) right a9 is on time and joins a10; a7 (7 + 2 >= 9) stays to b3 (h 11).
    expect(ids(run)).toEqual([[], ['a10+a12'], ['a10+a11', 'a10+a9', 'b5+-'], ['-+a7'], [], []]);
    expect(run.map((b) => b.dropped)).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it("late: 'sideOutput' gives the late records with their side instead of counting them", async () => {
    const late: unknown[][] = [];
    await runJoin(left, right, (l, r) => {
      const j = l.pipe(intervalJoin(r, bounds, { late: 'sideOutput' }));
      j.lateRecords().pipe(foreachBatch((records: readonly unknown[]) => void late.push([...records])));
      return j;
    }, 'intervalJoin#0', { numBatches: 3 });
    expect(late).toEqual([[], [], [{ side: 'right', record: ['a', ev('a', 9)] }]]);
  });
});

describe('intervalJoin: the watermark bounds the state', () => {
  it('a side whose watermark stalls holds the other side\'s records; they go when it moves', async () => {
    // Left a0, a10, ..., a70; right x0 in b0, then nothing until x100 in b5 (bounds [-1, 1]).
    const lefts = Array.from({ length: 8 }, (_, i) => [ev('a', 10 * i)]);
    const rights = [[ev('x', 0)], [], [], [], [], [ev('x', 100)], [], []];
    const run = await runJoin(lefts, rights, (l, r) => l.pipe(intervalJoin(r, { lowerBound: -1, upperBound: 1 }, { type: 'leftOuter' })), 'intervalJoin#0');
    // W = min(left, 0) = 0 for b1..b5: nothing is evicted (x0 stays too: 0 + 1 >= 0); in b6
    // W = 50 evicts a0..a40 and x0.
    expect(run.map((b) => b.stateRows)).toEqual([2, 3, 4, 5, 6, 8, 3, 3]);
    expect(ids(run)).toEqual([[], [], [], [], [], [], ['a0+-', 'a10+-', 'a20+-', 'a30+-', 'a40+-'], ['a50+-']]);
  });

  it('an idle side stops holding the watermark back: the other side is evicted and its outer rows come', async () => {
    const lefts = Array.from({ length: 8 }, (_, i) => [ev('a', 10 * i)]);
    const rights = [[ev('x', 0)]];
    const run = await runJoin(lefts, rights, (l, r) => l.pipe(intervalJoin(r, { lowerBound: -1, upperBound: 1 }, { type: 'leftOuter' })), 'intervalJoin#0', { idleTimeout: [undefined, 2000], numBatches: 8 });
    // The right side is idle from the batch planned 2 s after its last data on: W follows the left.
    const idleFrom = run.findIndex((b) => b.watermark !== undefined && b.watermark > 0);
    expect(idleFrom).toBeGreaterThan(0);
    expect(run.slice(idleFrom).every((b) => (b.stateRows ?? 99) <= 2)).toBe(true);
    expect(ids(run).flat()).toEqual(['a0+-', 'a10+-', 'a20+-', 'a30+-', 'a40+-', 'a50+-']);
  });

  it('state rows stay flat over a long run with a steady watermark', async () => {
    // 300 batches, 10 keys per side per batch, event time advancing 10 per batch, bounds ±15.
    const batch = (i: number, side: string) => Array.from({ length: 10 }, (_, k) => ev(`k${k}`, 10 * i + k, `${side}${i}.${k}`));
    const lefts = Array.from({ length: 300 }, (_, i) => batch(i, 'l'));
    const rights = Array.from({ length: 300 }, (_, i) => batch(i, 'r'));
    const run = await runJoin(lefts, rights, (l, r) => l.pipe(intervalJoin(r, { lowerBound: -15, upperBound: 15 })), 'intervalJoin#0', { delay: [5, 5] });
    const rows = run.map((b) => b.stateRows ?? Number.NaN);
    const warm = rows.slice(10);
    expect(Math.max(...warm)).toBe(Math.min(...warm));
    expect(Math.max(...warm)).toBeLessThan(100);
    // Every record joins the other side's records of its key within ±15: 3 batches' worth (i - 1, i, i + 1).
    expect(run.reduce((n, b) => n + b.rows.length, 0)).toBe(10 * (300 * 3 - 2));
  });
});

/** The other side of a join that fails before it looks at it. */
const nowhere = null as unknown as DStream<Pair<string, number>>;

describe('intervalJoin: mistakes', () => {
  it('refuses bounds the wrong way round, a bad type, and a side without a watermark', async () => {
    expect(() => intervalJoin(nowhere, { lowerBound: 5, upperBound: -5 })).toThrow(RangeError);
    expect(() => intervalJoin(nowhere, { lowerBound: '-5s', upperBound: 'soon' })).toThrow(/upperBound/);
    expect(() => intervalJoin(nowhere, bounds, { type: 'outer' as JoinType })).toThrow(/type must be one of/);
    await expect(runJoin([[]], [[]], (l, r) => l.pipe(intervalJoin(r.pipe(mapPartitions((records: readonly Pair<string, Ev>[]) => records)), bounds)), 'x')).rejects.toThrow(/right stream .* do not carry the event time/);
  });

  it("a key that is not a key fails the batch with USER_FUNCTION_FAILED, or is skipped and counted under onError: 'skip'", async () => {
    const bad = { ...ev('a', 1), k: { not: 'a key' } as unknown as string };
    const build = (onError?: 'skip') => (l: DStream<Pair<string, Ev>>, r: DStream<Pair<string, Ev>>) => l.pipe(intervalJoin(r, bounds, { name: 'card-join', ...(onError === undefined ? {} : { onError }) })) as DStream<Pair<string, unknown>>;
    await expect(runJoin([[bad, ev('a', 2)]], [[ev('a', 1)]], build(), 'card-join')).rejects.toMatchObject({ code: 'USER_FUNCTION_FAILED', message: expect.stringContaining('card-join') as unknown });
    const skipped = await runJoin([[bad, ev('a', 2)]], [[ev('a', 1)]], build('skip'), 'card-join');
    expect(ids(skipped)).toEqual([['a2+a1']]);
    expect(skipped[0]?.stateRows).toBe(2);
  });

  it('lateRecords() needs the sideOutput policy', async () => {
    await expect(runJoin([[]], [[]], (l, r) => l.pipe(intervalJoin(r, bounds)).lateRecords() as unknown as DStream<unknown>, 'x')).rejects.toThrow(/late: 'sideOutput'/);
  });
});
