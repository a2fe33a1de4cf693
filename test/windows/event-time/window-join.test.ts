import { describe, expect, it } from 'vitest';
import { foreachBatch, type DStream, type Pair } from 'sluice';
import { LevelStateBackend } from 'sluice/state';
import { session, sliding, tumbling, windowJoin, type JoinType, type WindowResult } from 'sluice/windows';
import { useTempDirs } from '../../support/temp-dir.js';
import { ev, runJoin, type Ev, type JoinBatch, type RunJoinOptions } from './join-harness.js';

const tempDir = useTempDirs('sluice-window-join-');

/*
 * Tumbling windows of 10, delay 0. The watermark min(left, right) is undefined, 5, 8, 11, 11, 25
 * in batches 0..5: [0,10) closes in b3, [10,20) in b5, [20,30) never.
 *   [0,10):  key a: left a1, right a5, a8, a2 (a2 comes in b2, before the window closes); key b:
 *            left b3 alone; key c: right c4 alone. Right a7 comes in b3, after it closed: late.
 *   [10,20): key a: left a12, a15, right a11.
 */
const left = [[ev('a', 1), ev('a', 12), ev('b', 3)], [], [ev('a', 15)], [ev('a', 25)], []];
const right = [[ev('a', 5)], [ev('a', 8), ev('c', 4)], [ev('a', 11), ev('a', 2)], [ev('a', 7)], [ev('a', 30)]];

/** Rows as `start:l.id+r.id` (`-` for null), or `start:l.id` for semi rows, per batch. */
const rows = (run: readonly JoinBatch<WindowResult<string, unknown>>[]) =>
  run.map((b) =>
    b.rows.map(({ window, value }) => {
      if (!Array.isArray(value)) return `${window.start}:${(value as Ev).id}`;
      const [l, r] = value as [Ev | null, Ev | null];
      return `${window.start}:${l?.id ?? '-'}+${r?.id ?? '-'}`;
    }),
  );

const run = (type: JoinType, options: RunJoinOptions = {}) =>
  runJoin(left, right, (l, r) => l.pipe(windowJoin(r, tumbling(10), { type, name: 'wj' })) as DStream<WindowResult<string, unknown>>, 'wj', { numBatches: 6, ...options });

describe('windowJoin', () => {
  const a0 = ['0:a1+a5', '0:a1+a8', '0:a1+a2'];
  const a10 = ['10:a12+a11', '10:a15+a11'];
  const expected: Record<JoinType, string[]> = {
    inner: [...a0],
    leftOuter: [...a0, '0:b3+-'],
    rightOuter: [...a0, '0:-+c4'],
    fullOuter: [...a0, '0:b3+-', '0:-+c4'],
    leftSemi: ['0:a1'],
  };
  const later: Record<JoinType, string[]> = { inner: a10, leftOuter: a10, rightOuter: a10, fullOuter: a10, leftSemi: ['10:a12', '10:a15'] };
  for (const type of Object.keys(expected) as JoinType[]) {
    it(`${type}: each window's pairs once, when the watermark closes it; a record after that is late`, async () => {
      const out = await run(type);
      expect(rows(out).map((b) => b.sort())).toEqual([[], [], [], [...expected[type]].sort(), [], [...later[type]].sort()]);
      expect(out.map((b) => b.dropped)).toEqual([0, 0, 0, 1, 0, 0]);
    });
  }

  it('the order within a batch: windows by end, then key hash (as eventTimeWindow); left records in arrival order, each with the right ones in arrival order', async () => {
    const out = await run('fullOuter');
    // hashKey orders a, c, b here: the same in every process and on every replay.
    expect(rows(out)[3]).toEqual(['0:a1+a5', '0:a1+a8', '0:a1+a2', '0:-+c4', '0:b3+-']);
  });

  it('the LevelDB backend gives the same rows and state rows as memory', async () => {
    const memory = await run('fullOuter');
    const level = await run('fullOuter', { stateBackend: await LevelStateBackend.open(await tempDir()) });
    expect(rows(level)).toEqual(rows(memory));
    expect(level.map((b) => b.stateRows)).toEqual(memory.map((b) => b.stateRows));
    // (key, window) entries: a, b, c in [0,10) and a in [10,20) until b3; then a in [10,20) and
    // [20,30), and [30,40) from b4 on, until [10,20) closes in b5.
    expect(memory.map((b) => b.stateRows)).toEqual([3, 4, 4, 2, 3, 2]);
  });

  it('sliding windows pair the records each window holds', async () => {
    const out = await runJoin([[ev('a', 1), ev('a', 6)], [ev('z', 50)]], [[ev('a', 4)], [ev('z', 40)]], (l, r) => l.pipe(windowJoin(r, sliding(10, 5))) as DStream<WindowResult<string, unknown>>, 'windowJoin#0', { numBatches: 3 });
    // a1 is in [-5,5) and [0,10); a6 in [0,10) and [5,15); a4 in [-5,5) and [0,10). All close in b2 (W 40).
    expect(rows(out).flat().sort()).toEqual(['-5:a1+a4', '0:a1+a4', '0:a6+a4']);
  });

  it('late records go to the side output with their side', async () => {
    const late: unknown[] = [];
    await runJoin(left, right, (l, r) => {
      const j = l.pipe(windowJoin(r, tumbling(10), { late: 'sideOutput' }));
      j.lateRecords().pipe(foreachBatch((records: readonly unknown[]) => void late.push(...records)));
      return j;
    }, 'windowJoin#0', { numBatches: 6 });
    expect(late).toEqual([{ side: 'right', record: ['a', ev('a', 7)] }]);
  });

  it('state rows stay flat over a long run with a steady watermark', async () => {
    const batch = (i: number, side: string) => Array.from({ length: 5 }, (_, k) => ev(`k${k}`, 10 * i + k, `${side}${i}.${k}`));
    const out = await runJoin(Array.from({ length: 200 }, (_, i) => batch(i, 'l')), Array.from({ length: 200 }, (_, i) => batch(i, 'r')), (l, r) => l.pipe(windowJoin(r, tumbling(20))) as DStream<unknown>, 'windowJoin#0');
    const warm = out.slice(10).map((b) => b.stateRows ?? Number.NaN);
    expect(Math.max(...warm)).toBeLessThanOrEqual(10);
    expect(out.reduce((n, b) => n + b.rows.length, 0)).toBeGreaterThan(5 * 4 * 98);
  });

  it('refuses session windows', () => {
    expect(() => windowJoin(null as unknown as DStream<Pair<string, number>>, session(10) as never)).toThrow(/session windows are not supported/);
  });
});
