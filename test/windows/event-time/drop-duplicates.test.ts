import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { foreachBatch, keyBy, ManualClock, StreamingContext, type BatchProgress, type DStream } from 'sluice';
import { LevelStateBackend } from 'sluice/state';
import { agg, dropDuplicates, eventTimeWindow, tumbling, withWatermark, type DropDuplicatesOptions } from 'sluice/windows';
import { runBatches } from 'sluice/testing';

interface Ev {
  readonly id: string;
  readonly t: number;
}
const ev = (id: string, t: number): Ev => ({ id, t });
const show = (out: Ev[][]): string[][] => out.map((batch) => batch.map((e) => `${e.id}@${e.t}`));

/** Runs `build` on a ManualClock over `input`, one batch per input batch, with every progress event. */
async function run<U>(input: Ev[][], build: (s: DStream<Ev>) => DStream<U>, configure?: (ctx: StreamingContext) => void): Promise<{ out: U[][]; progress: BatchProgress[] }> {
  const clock = new ManualClock();
  const ctx = new StreamingContext({ batchInterval: 1000, clock, defaultParallelism: 1 });
  const progress: BatchProgress[] = [];
  ctx.addListener((e) => {
    if (e.type === 'batchCompleted') progress.push(e.progress);
  });
  const out: U[][] = [];
  build(ctx.queueStream(input)).pipe(foreachBatch((r) => void out.push([...r])));
  configure?.(ctx);
  await ctx.start();
  await clock.advance(1000 * input.length);
  await ctx.stop();
  return { out, progress };
}

const byEventTime = (options: Omit<DropDuplicatesOptions<Ev>, 'within'> = {}, within = 10) => (s: DStream<Ev>) =>
  s.pipe(withWatermark((e: Ev) => e.t, 0), dropDuplicates((e: Ev) => e.id, { within, ...options }));

describe('dropDuplicates in event time', () => {
  it('keeps the first record of a key and forgets the key once the watermark passes its first time plus within', async () => {
    const input = [[ev('a', 1), ev('a', 5), ev('b', 3)], [ev('a', 9), ev('c', 2)], [ev('x', 30)], [ev('a', 25), ev('a', 26)], []];
    const { out, progress } = await run(input, byEventTime());
    // Batch 1 (watermark 5): a is remembered until 11, so a@9 is a duplicate; c@2 is new (2 + 10 >= 5).
    // Batch 3 (watermark 30): a was forgotten (11 < 30); a@25 is new, a@26 its duplicate.
    expect(show(out)).toEqual([['a@1', 'b@3'], ['c@2'], ['x@30'], ['a@25'], []]);
    expect(progress.map((p) => p.numDuplicatesDropped)).toEqual([1, 1, 0, 1, 0]);
    expect(progress.map((p) => p.operators[0]?.duplicatesDropped)).toEqual([1, 1, 0, 1, 0]);
    // Remembered keys: a, b (batch 0); + c; + x; a, b, c forgotten at 30, a and x remembered.
    expect(progress.map((p) => p.operators[0]?.stateRows)).toEqual([2, 3, 4, 2, 2]);
  });

  it('a key is still remembered when the watermark equals its first time plus within, and forgotten just after', async () => {
    const input = [[ev('a', 0), ev('w', 10)], [ev('a', 10)], [ev('w', 11)], [ev('a', 12)]];
    const { out } = await run(input, byEventTime());
    // Batch 1: watermark 10 = 0 + 10: a remembered, a@10 dropped. Batch 3: watermark 11 > 10: a forgotten, a@12 kept.
    expect(show(out)).toEqual([['a@0', 'w@10'], [], [], ['a@12']]);
  });

  it('drops and counts records too old to be told from a forgotten duplicate', async () => {
    const input = [[ev('a', 1), ev('x', 40)], [ev('a', 2), ev('b', 29), ev('c', 30)]];
    const { out, progress } = await run(input, byEventTime());
    // Watermark 40: a@2 and b@29 are late (2 + 10 and 29 + 10 < 40); c@30 (30 + 10 = 40) is not.
    expect(show(out)).toEqual([['a@1', 'x@40'], ['c@30']]);
    expect(progress.map((p) => p.lateRecordsDropped)).toEqual([0, 2]);
  });

  it('sends late records to the side output with late: sideOutput, and keeps keys longer with allowedLateness', async () => {
    const clock = new ManualClock();
    const ctx = new StreamingContext({ batchInterval: 1000, clock, defaultParallelism: 1 });
    const deduped = ctx
      .queueStream([[ev('a', 1), ev('x', 40)], [ev('a', 2), ev('b', 24), ev('c', 30)]])
      .pipe(withWatermark((e: Ev) => e.t, 0), dropDuplicates((e: Ev) => e.id, { within: 10, allowedLateness: 5, late: 'sideOutput' }));
    const kept: Ev[][] = [];
    const late: Ev[][] = [];
    deduped.pipe(foreachBatch((r) => void kept.push([...r])));
    deduped.lateRecords().pipe(foreachBatch((r) => void late.push([...r])));
    await ctx.start();
    await clock.advance(2000);
    await ctx.stop();
    // Bound 40 - 5 = 35: a@2 and b@24 are late (24 + 10 < 35); c@30 is not.
    expect(show(kept)).toEqual([['a@1', 'x@40'], ['c@30']]);
    expect(show(late)).toEqual([[], ['a@2', 'b@24']]);
  });

  it('carries the event times on, so an event-time window can follow', async () => {
    const input = [[ev('a', 1), ev('a', 2), ev('b', 4)], [ev('c', 12), ev('b', 5)], [ev('z', 40)], []];
    const out = await runBatches(
      input,
      (s) => s.pipe(withWatermark((e: Ev) => e.t, 0), dropDuplicates((e: Ev) => e.id, { within: 100 }), keyBy(() => 'all'), eventTimeWindow(tumbling(10), agg.count())),
      { numPartitions: 1 },
    );
    expect(out.flat().map((r) => [r.window.start, r.value])).toEqual([[0, 2], [10, 1]]);
  });

  it('the first of a batch copies is kept, in the order of its partitions', async () => {
    const input = [[ev('a', 3), ev('a', 1), ev('b', 2), ev('a', 2)]];
    const out = await runBatches(input, byEventTime(), { numPartitions: 2 });
    expect(out[0]?.filter((e) => e.id === 'a')).toHaveLength(1);
    expect(out[0]).toHaveLength(2);
  });
});

describe('dropDuplicates in processing time', () => {
  it('forgets a key once the batch time passes its first batch time plus within', async () => {
    const input = [[ev('a', 0)], [ev('a', 0)], [ev('a', 0), ev('b', 0)], [ev('a', 0), ev('b', 0)]];
    const { out, progress } = await run(input, (s) => s.pipe(dropDuplicates((e: Ev) => e.id, { within: 2000 })));
    // a first at batch time T, remembered until T + 2000 (batch 2 included), forgotten at batch 3.
    expect(show(out)).toEqual([['a@0'], [], ['b@0'], ['a@0']]);
    expect(progress.map((p) => p.numDuplicatesDropped)).toEqual([0, 1, 1, 1]);
  });

  it("takes timeDomain: 'processing' even with a watermark upstream", async () => {
    const input = [[ev('a', 1)], [ev('a', 500)]];
    const { out } = await run(input, (s) => s.pipe(withWatermark((e: Ev) => e.t, 0), dropDuplicates((e: Ev) => e.id, { within: 1000, timeDomain: 'processing' })));
    expect(show(out)).toEqual([['a@1'], []]);
  });
});

describe('dropDuplicates on LevelDB', () => {
  it('gives the same results as in memory', async () => {
    const input = [[ev('a', 1), ev('a', 5), ev('b', 3)], [ev('a', 9), ev('c', 2)], [ev('x', 30)], [ev('a', 25), ev('a', 26)], []];
    const dir = await mkdtemp(join(tmpdir(), 'sluice-dedup-'));
    try {
      const inMemory = await runBatches(input, byEventTime(), { numPartitions: 1 });
      const onDisk = await runBatches(input, byEventTime(), { numPartitions: 1, stateBackend: () => LevelStateBackend.open(join(dir, 'state')) });
      expect(show(onDisk)).toEqual(show(inMemory));
      expect(show(onDisk)).toEqual([['a@1', 'b@3'], ['c@2'], ['x@30'], ['a@25'], []]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('keeps its state flat over a long run with a steady watermark', async () => {
    // 200 batches of 50 new ids each, 1 s of event time per batch, within 5 s: about 5 batches of keys are remembered.
    const input = Array.from({ length: 200 }, (_, b) => Array.from({ length: 50 }, (_, i) => ev(`${b}-${i}`, b * 1000 + i)));
    const { progress } = await run(input, byEventTime({}, 5000));
    const rows = progress.map((p) => p.operators[0]?.stateRows ?? 0);
    expect(Math.max(...rows.slice(20))).toBeLessThanOrEqual(7 * 50);
    expect(Math.max(...rows.slice(20))).toBe(Math.max(...rows.slice(100)));
  });
});

describe('dropDuplicates, wrong arguments and bad records', () => {
  it('refuses a missing within, event-time options without a watermark, and a broken event time', () => {
    const ctx = new StreamingContext({ batchInterval: 1000, clock: new ManualClock() });
    const s = ctx.queueStream<Ev>([]);
    expect(() => dropDuplicates((e: Ev) => e.id, {} as DropDuplicatesOptions<Ev>)).toThrow(/give \{ within \}/);
    expect(() => dropDuplicates((e: Ev) => e.id, { within: 0 })).toThrow(RangeError);
    expect(() => s.pipe(dropDuplicates((e: Ev) => e.id, { within: 10, late: 'sideOutput' }))).toThrow(/event time only/);
    expect(() => s.pipe(dropDuplicates((e: Ev) => e.id, { within: 10, timeDomain: 'event' }))).toThrow(/needs a watermark upstream/);
    const deduped = s.pipe(dropDuplicates((e: Ev) => e.id, { within: 10 }));
    expect(() => deduped.lateRecords()).toThrow(/late: 'sideOutput'/);
  });

  it("skips and counts a record whose key function throws under onError: 'skip'", async () => {
    const input = [[ev('a', 1), ev('boom', 2), ev('a', 3)]];
    const { out, progress } = await run(input, (s) =>
      s.pipe(
        dropDuplicates(
          (e: Ev) => {
            if (e.id === 'boom') throw new Error('no id');
            return e.id;
          },
          { within: 10, onError: 'skip' },
        ),
      ),
    );
    expect(show(out)).toEqual([['a@1']]);
    expect(progress[0]?.numSkippedRecords).toBe(1);
    expect(progress[0]?.numDuplicatesDropped).toBe(1);
  });

  it('fails the batch with USER_FUNCTION_FAILED when the key function gives no key', async () => {
    await expect(runBatches([[ev('a', 1)]], (s) => s.pipe(dropDuplicates(() => ({}) as unknown as string, { within: 10 })))).rejects.toMatchObject({ code: 'USER_FUNCTION_FAILED' });
  });
});
