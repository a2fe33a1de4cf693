import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { foreachBatch, keyBy, ManualClock, map, mapValues, StreamingContext, type DStream, type Pair } from 'sluice';
import { levelCheckpoint } from 'sluice/checkpoint';
import { queryCheckpoint, queryState } from 'sluice/sql';
import { agg, countByWindow, eventTimeWindow, reduceByKeyAndWindow, session, tumbling, window, windowJoin, withWatermark } from 'sluice/windows';
import { useTempDir } from '../support/temp-dir.js';

const dir = useTempDir();
const add = (a: number, b: number): number => a + b;
const at = (ms: number): Date => new Date(ms);

/** Rows of `sql` over `ctx`'s state and window results. */
async function rows(ctx: StreamingContext, sql: string): Promise<readonly Record<string, unknown>[]> {
  return (await queryState(ctx, sql)).rows;
}

describe('queryState: the last results of batch-time windows', () => {
  it('gives each window its last emitted records, named by its id, and keeps them through batches that emit none', async () => {
    const clock = new ManualClock();
    const ctx = new StreamingContext({ batchInterval: 1000, clock });
    const pairs = ctx.queueStream<Pair<string, number>>([[['a', 1], ['b', 2]], [['a', 3]], [], []], { name: 'pairs' });
    pairs.pipe(reduceByKeyAndWindow(add, undefined, '2s', '1s', { name: 'sums' }), foreachBatch(() => undefined));
    const counted = pairs.pipe(countByWindow('2s', '2s'));
    counted.pipe(foreachBatch(() => undefined));
    pairs.pipe(
      map(([user, amount]: Pair<string, number>) => ({ user, amount })),
      window('2s', '1s', { name: 'recent' }),
      foreachBatch(() => undefined),
    );
    const count = `"${counted.describe}"`;
    expect(count).toBe('"countByWindow#0"');
    await ctx.start();
    // Before the first batch every window's table is there, empty.
    expect(await rows(ctx, `SELECT * FROM ${count}`)).toEqual([]);
    const expected = [
      // batch 0 (t = 1 s): countByWindow slides every 2 s, so has emitted nothing yet.
      { sums: [{ batch_time: at(1000), key: 'a', value: 1 }, { batch_time: at(1000), key: 'b', value: 2 }], count: [], recent: [{ batch_time: at(1000), user: 'a', amount: 1 }, { batch_time: at(1000), user: 'b', amount: 2 }] },
      {
        sums: [{ batch_time: at(2000), key: 'a', value: 4 }, { batch_time: at(2000), key: 'b', value: 2 }],
        count: [{ batch_time: at(2000), value: 3 }],
        recent: [{ batch_time: at(2000), user: 'a', amount: 1 }, { batch_time: at(2000), user: 'b', amount: 2 }, { batch_time: at(2000), user: 'a', amount: 3 }],
      },
      // batch 2 (t = 3 s): the window (1 s, 3 s] holds batch 1 only; countByWindow emits nothing between its slides.
      { sums: [{ batch_time: at(3000), key: 'a', value: 3 }], count: [{ batch_time: at(2000), value: 3 }], recent: [{ batch_time: at(3000), user: 'a', amount: 3 }] },
      // batch 3 (t = 4 s): sums' and recent's windows are empty (their last results stay batch 2's); the count is 0.
      { sums: [{ batch_time: at(3000), key: 'a', value: 3 }], count: [{ batch_time: at(4000), value: 0 }], recent: [{ batch_time: at(3000), user: 'a', amount: 3 }] },
    ];
    for (const [batch, want] of expected.entries()) {
      await clock.advance(1000);
      const context = `after batch ${batch}`;
      expect(await rows(ctx, 'SELECT * FROM sums ORDER BY key'), context).toEqual(want.sums);
      expect(await rows(ctx, `SELECT * FROM ${count}`), context).toEqual(want.count);
      expect(await rows(ctx, 'SELECT * FROM recent'), context).toEqual(want.recent);
    }
    expect((await queryState(ctx, 'SELECT * FROM sums')).columns).toEqual([
      { name: 'batch_time', type: 'TIMESTAMP' },
      { name: 'key', type: 'VARCHAR' },
      { name: 'value', type: 'DOUBLE' },
    ]);
    await ctx.stop();
  });
});

interface Click {
  readonly user: string;
  /** Event time, ms. */
  readonly t: number;
}

/** Clicks per user in 1 s tumbling event-time windows ('perSecond', append), and in sessions with a 1 s gap ('sessions', update). */
function clicksJob(clock: ManualClock, batches: Click[][], checkpoint?: string): StreamingContext {
  const ctx = new StreamingContext({ batchInterval: 1000, clock, ...(checkpoint === undefined ? {} : { checkpoint: levelCheckpoint(checkpoint) }) });
  const keyed = ctx.queueStream(batches, { name: 'clicks' }).pipe(
    withWatermark((c: Click) => c.t, 0),
    keyBy((c: Click) => c.user),
    mapValues(() => 1),
  );
  keyed.pipe(eventTimeWindow(tumbling('1s'), agg.count(), { name: 'perSecond' }), foreachBatch(() => undefined));
  keyed.pipe(eventTimeWindow(session('1s'), agg.count(), { name: 'sessions', outputMode: 'update' }), foreachBatch(() => undefined));
  return ctx;
}

describe('queryState: the last results of event-time windows', () => {
  for (const checkpointed of [false, true]) {
    it(`gives a window's last emitted results with their bounds and batch time (${checkpointed ? 'LevelDB checkpoint' : 'no checkpoint'})`, async () => {
      const clock = new ManualClock();
      const ctx = clicksJob(clock, [[{ user: 'a', t: 100 }, { user: 'b', t: 200 }, { user: 'a', t: 900 }], [{ user: 'a', t: 1500 }], [], []], checkpointed ? join(dir(), 'ckpt') : undefined);
      await ctx.start();
      await clock.advance(2000);
      // The watermark (1.5 s after batch 1) closes [0, 1 s) in batch 2: nothing emitted before.
      expect(await rows(ctx, 'SELECT * FROM "perSecond"')).toEqual([]);
      const closed = [
        { batch_time: at(3000), key: 'a', window_start: at(0), window_end: at(1000), value: 2 },
        { batch_time: at(3000), key: 'b', window_start: at(0), window_end: at(1000), value: 1 },
      ];
      await clock.advance(1000);
      expect(await rows(ctx, 'SELECT * FROM "perSecond" ORDER BY key')).toEqual(closed);
      await clock.advance(1000);
      // Batch 3 closes no window: the results stay batch 2's.
      const result = await queryState(ctx, 'SELECT * FROM "perSecond" ORDER BY key');
      expect(result.rows).toEqual(closed);
      expect(result.batchId).toBe(3);
      expect(result.columns.map((c) => `${c.name} ${c.type}`)).toEqual(['batch_time TIMESTAMP', 'key VARCHAR', 'window_start TIMESTAMP', 'window_end TIMESTAMP', 'value DOUBLE']);
      if (checkpointed) {
        // The open window [1 s, 2 s) is the operator's state.
        expect(await rows(ctx, 'SELECT key, window_start, value FROM "perSecond.state"')).toEqual([{ key: 'a', window_start: at(1000), value: 1 }]);
      }
      await ctx.stop();
    });
  }

  it("gives session windows' retractions a column of their own", async () => {
    const clock = new ManualClock();
    const ctx = clicksJob(clock, [[{ user: 'a', t: 100 }], [{ user: 'a', t: 600 }]]);
    await ctx.start();
    await clock.advance(1000);
    expect(await rows(ctx, 'SELECT * FROM sessions')).toEqual([{ batch_time: at(1000), key: 'a', window_start: at(100), window_end: at(1100), value: 1 }]);
    await clock.advance(1000);
    // The session grew: the update retracts [0.1 s, 1.1 s) and gives [0.1 s, 1.6 s).
    expect(await rows(ctx, 'SELECT * FROM sessions')).toEqual([
      { batch_time: at(2000), key: 'a', window_start: at(100), window_end: at(1100), retracted: true, value: null },
      { batch_time: at(2000), key: 'a', window_start: at(100), window_end: at(1600), retracted: false, value: 2 },
    ]);
    await ctx.stop();
  });
});

describe('queryState: the last results of a window join', () => {
  it("are the joined rows, under the join's id", async () => {
    const clock = new ManualClock();
    const ctx = new StreamingContext({ batchInterval: 1000, clock });
    const clicks = ctx.queueStream<Click>([[{ user: 'a', t: 100 }, { user: 'b', t: 300 }], [{ user: 'a', t: 1200 }]], { name: 'clicks' });
    const views = ctx.queueStream<Click>([[{ user: 'a', t: 500 }], [{ user: 'a', t: 1300 }]], { name: 'views' });
    const keyed = (stream: DStream<Click>): DStream<Pair<string, number>> => stream.pipe(withWatermark((c: Click) => c.t, 0), keyBy((c: Click) => c.user), mapValues((c: Click) => c.t));
    keyed(clicks).pipe(windowJoin(keyed(views), tumbling('1s'), { type: 'leftOuter', name: 'joined' }), foreachBatch(() => undefined));
    await ctx.start();
    // The watermark passes 1 s after batch 1: batch 2 closes [0, 1 s).
    await clock.advance(3000);
    expect(await rows(ctx, 'SELECT key, window_start, window_end, value, batch_time FROM joined ORDER BY key')).toEqual([
      { key: 'a', window_start: at(0), window_end: at(1000), value: '[100,500]', batch_time: at(3000) },
      { key: 'b', window_start: at(0), window_end: at(1000), value: '[300,null]', batch_time: at(3000) },
    ]);
    await ctx.stop();
  });
});

describe('queryState: tables that do not exist', () => {
  it('lists the tables there are, windows included', async () => {
    const clock = new ManualClock();
    const ctx = clicksJob(clock, [[{ user: 'a', t: 100 }]], join(dir(), 'ckpt'));
    await ctx.start();
    await clock.advance(1000);
    const error = await queryState(ctx, 'SELECT * FROM nope').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'SQL_FAILED' });
    expect((error as Error).message).toContain('("perSecond", "sessions", "perSecond.state", "sessions.state")');
    expect((error as Error).message).toMatch(/nope does not exist/);
    await ctx.stop();
    // A stopped job's checkpoint holds the windows' state, not their last results: the message says so.
    const stopped = await queryCheckpoint(join(dir(), 'ckpt'), 'SELECT * FROM "perSecond"').catch((e: unknown) => e);
    expect(stopped).toMatchObject({ code: 'SQL_FAILED' });
    expect((stopped as Error).message).toContain(`("perSecond.state", "sessions.state"; a window's last results are tables only while its job runs`);
  });
});

interface Reading {
  readonly key: string;
  readonly value: number;
  /** Event time, ms: in its batch's interval, or up to 1.5 s before it (late, or in an earlier window). */
  readonly t: number;
}

/** What a window emitted last as rows of its table, built from the records themselves. */
function expectedRows(name: string, kept: { readonly batchTime: number; readonly records: readonly unknown[] } | undefined): Record<string, unknown>[] {
  const batch_time = at(kept?.batchTime ?? 0);
  return (kept?.records ?? []).map((record) => {
    if (name === 'perSecond') {
      const { key, window: w, value } = record as { key: string; window: { start: number; end: number }; value: number };
      return { batch_time, key, window_start: at(w.start), window_end: at(w.end), value };
    }
    const [key, value] = record as Pair<string, number>;
    return name === 'keyed' ? { batch_time, key, value } : { batch_time, value: JSON.stringify([key, value]) };
  });
}

describe('queryState: a window result table is the last output of its window (property)', () => {
  it("for random batches, after every batch, each table holds exactly the window's last non-empty output", async () => {
    const reading = (batch: number) => fc.record({ key: fc.constantFrom('a', 'b', 'c'), value: fc.integer({ min: -5, max: 9 }), t: fc.integer({ min: batch * 1000 - 1500, max: batch * 1000 + 999 }) });
    const batchesOf = fc.integer({ min: 1, max: 6 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, b) => fc.array(reading(b), { maxLength: 5 }))));
    await fc.assert(
      fc.asyncProperty(batchesOf, fc.integer({ min: 1, max: 3 }), fc.boolean(), fc.integer({ min: 0, max: 1500 }), async (batches: Reading[][], length, slideWhole, delay) => {
        const clock = new ManualClock();
        const ctx = new StreamingContext({ batchInterval: 1000, clock });
        const last = new Map<string, { batchTime: number; records: unknown[] }>();
        const keep = (name: string) => (stream: DStream<unknown>) =>
          stream.pipe(
            foreachBatch((records: readonly unknown[], { batchTime }) => {
              if (records.length > 0) last.set(name, { batchTime, records: [...records] });
            }),
          );
        const readings = ctx.queueStream(batches, { name: 'readings' });
        const input = readings.pipe(map((r: Reading): Pair<string, number> => [r.key, r.value]));
        keep('keyed')(input.pipe(reduceByKeyAndWindow(add, undefined, length * 1000, slideWhole ? length * 1000 : 1000, { name: 'keyed' })));
        keep('recent')(input.pipe(window(length * 1000, 1000, { name: 'recent' })));
        keep('perSecond')(
          readings.pipe(
            withWatermark((r: Reading) => r.t, delay),
            map((r: Reading): Pair<string, number> => [r.key, r.value]),
            eventTimeWindow(tumbling('1s'), agg.sum(), { name: 'perSecond', outputMode: 'update' }),
          ),
        );
        await ctx.start();
        for (let batch = 0; batch < batches.length + length; batch++) {
          await clock.advance(1000);
          for (const name of ['keyed', 'recent', 'perSecond']) {
            const got = await rows(ctx, `SELECT * FROM "${name}"`);
            expect(got, `${name} after batch ${batch}`).toEqual(expectedRows(name, last.get(name)));
          }
        }
        await ctx.stop();
      }),
      { numRuns: 25 },
    );
  });
});
