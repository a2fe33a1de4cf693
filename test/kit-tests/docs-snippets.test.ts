/*
 * The examples of the section "Generators and laws, one by one" of
 * docs/testing-your-operators.md, as tests: each block of that section is a piece of this file,
 * verbatim (test/examples/testing-docs.test.ts checks it), so every example the page shows runs.
 * Small inputs and few runs: the file is a tour, the kit's own tests are in the files beside it.
 */
import fc from 'fast-check';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, test } from 'vitest';
import { countByValue, filter, foreachBatch, keyBy, ManualClock, map, mapToPair, SluiceError, StreamingContext, type DStream } from 'sluice';
import { levelCheckpoint } from 'sluice/checkpoint';
import { decodeValue, encodeValue, MemoryStateStore, type Offset, type Source, type SourceEnvironment, type SourceRead, type WriteAheadLog } from 'sluice/extend';
import { updateStateByKey } from 'sluice/state';
import {
  assertSameValue,
  batchCuts,
  batched,
  batchingInvariance,
  committedState,
  CRASH_STEPS,
  crashPoints,
  cutIntoBatches,
  exactlyOnceUnderCrash,
  faultyCheckpoint,
  incrementalEqualsRecomputed,
  inverseLaw,
  keyedEvents,
  lateDataAccounting,
  MemoryWriteAheadLog,
  replayDeterminism,
  runBatches,
  seededRandom,
  sinkSuite,
  sourceSuite,
  stateStoreSuite,
  watermarkMonotonicity,
  type CheckpointFaults,
  type KeyedEvent,
  type SinkFixture,
} from 'sluice/testing';
import { agg, eventTimeWindow, sliding, tumbling } from 'sluice/windows';

test('keyedEvents: without late events, no event is more than maxDisorder behind an earlier one', () => {
  const events = keyedEvents(fc, { keys: 3, skew: 1, maxEvents: 20, maxDisorder: 5, duplicateFraction: 0.2 });
  fc.assert(
    fc.property(events, (list) => {
      let largest = Number.NEGATIVE_INFINITY;
      for (const { key, time, id } of list) {
        expect(['k0', 'k1', 'k2']).toContain(key);
        expect(id).toBeLessThan(list.length);
        expect(time).toBeGreaterThanOrEqual(largest - 5);
        largest = Math.max(largest, time);
      }
    }),
    { numRuns: 50 },
  );
});

test('batchCuts and cutIntoBatches: the batches of any cuts concatenate back to the records', () => {
  expect(cutIntoBatches(['a', 'b', 'c'], [1, 1])).toEqual([['a'], [], ['b', 'c']]);
  const words = ['a', 'b', 'a', 'c', 'a'];
  fc.assert(
    fc.property(batchCuts(fc, words, { maxBatches: 4 }), (cuts) => {
      const batches = cutIntoBatches(words, cuts);
      expect(batches).toHaveLength(cuts.length + 1);
      expect(batches.flat()).toEqual(words);
    }),
    { numRuns: 50 },
  );
});

test('batched: a running count per word ends the same however the words are batched', async () => {
  const words = batched(fc, fc.array(fc.constantFrom('a', 'b', 'c'), { maxLength: 12 }), { maxBatches: 4 });
  await fc.assert(
    fc.asyncProperty(words, async (batches) => {
      const out = await runBatches(batches, (s: DStream<string>) =>
        s.pipe(
          mapToPair((w) => [w, 1]),
          updateStateByKey((ones: number[], n: number | undefined) => (n ?? 0) + ones.length),
        ),
      );
      const counted = new Map(out.at(-1));
      for (const w of batches.flat()) expect(counted.get(w)).toBe(batches.flat().filter((x) => x === w).length);
    }),
    { numRuns: 20 },
  );
});

test('crashPoints: a crash in one of the first batches, at one of the CRASH_STEPS', () => {
  expect(CRASH_STEPS).toEqual(['afterPlan', 'midCompute', 'betweenSinks', 'beforeCommit', 'afterCommit', 'betweenCommitted']);
  fc.assert(
    fc.property(crashPoints(fc, { batches: 3 }), ({ batch, step, record }) => {
      expect(batch).toBeLessThan(3);
      expect(CRASH_STEPS).toContain(step);
      expect(record).toBeGreaterThanOrEqual(0);
    }),
    { numRuns: 50 },
  );
});

test('batchingInvariance holds for a map and filter chain, and a count per batch breaks it', async () => {
  const records = fc.array(fc.integer({ min: -50, max: 50 }), { maxLength: 20 });
  const build = (s: DStream<number>) => s.pipe(map((n: number) => n * 2), filter((n: number) => n % 3 !== 0));
  await fc.assert(batchingInvariance(fc, { build, records }), { numRuns: 20 });

  const counts = await fc.check(batchingInvariance(fc, { build: (s: DStream<number>) => s.pipe(countByValue()), records }), { numRuns: 20 });
  expect(counts.failed).toBe(true);
  expect(String(counts.errorInstance)).toContain('batching invariance');
});

test('replayDeterminism holds for a running count: the same batches give the same outputs again', async () => {
  const build = (s: DStream<string>) =>
    s.pipe(
      mapToPair((w) => [w, 1]),
      updateStateByKey((ones: number[], n: number | undefined) => (n ?? 0) + ones.length),
    );
  await fc.assert(replayDeterminism(fc, { build, records: fc.array(fc.constantFrom('a', 'b', 'c'), { maxLength: 12 }), runs: 3 }), { numRuns: 20 });
});

test('inverseLaw holds for (+, -) on integers', async () => {
  await fc.assert(inverseLaw(fc, { reduce: (a: number, b: number) => a + b, inverse: (a, b) => a - b, values: fc.integer({ min: -1000, max: 1000 }) }), { numRuns: 50 });
});

test('incrementalEqualsRecomputed holds for a sum over 3 s every second', async () => {
  const plus = (a: number, b: number): number => a + b;
  const minus = (a: number, b: number): number => a - b;
  await fc.assert(incrementalEqualsRecomputed(fc, { reduce: plus, inverse: minus, values: fc.integer({ min: -5, max: 5 }), length: 3000, slide: 1000, zero: 0, maxBatches: 5 }), {
    numRuns: 10,
  });
});

test('watermarkMonotonicity holds for a watermark of 20 ms followed by a tumbling count', async () => {
  const build = (s: DStream<KeyedEvent>) => s.pipe(keyBy((e: KeyedEvent) => e.key), eventTimeWindow(tumbling(10), agg.count()));
  await fc.assert(watermarkMonotonicity(fc, { delay: 20, build, maxBatches: 5 }), { numRuns: 10 });
});

test('lateDataAccounting holds for a sliding window: every record is in its windows or counted late', async () => {
  await fc.assert(lateDataAccounting(fc, { assigner: sliding(20, 5), delay: 10, maxBatches: 5 }), { numRuns: 10 });
});

test('exactlyOnceUnderCrash holds for a running count per word', async () => {
  const build = (s: DStream<string>) =>
    s.pipe(
      mapToPair((w) => [w, 1]),
      updateStateByKey((ones: number[], n: number | undefined) => (n ?? 0) + ones.length, { name: 'counts' }),
    );
  await fc.assert(exactlyOnceUnderCrash(fc, { build, records: fc.array(fc.constantFrom('a', 'b', 'c'), { maxLength: 8 }), maxBatches: 4 }), { numRuns: 5 });
});

test('faultyCheckpoint crashes a job after the atomic write of batch 1; committedState shows the restart lost and doubled nothing', async () => {
  const directory = await mkdtemp(join(tmpdir(), 'sluice-docs-'));
  /** Counts 8 words, 2 a batch, on a checkpoint in `name`, failing where `faults` say. */
  const job = (name: string, clock: ManualClock, faults: CheckpointFaults = {}): StreamingContext => {
    const ctx = new StreamingContext({ batchInterval: 1000, clock, checkpoint: faultyCheckpoint(levelCheckpoint(join(directory, name)), faults) });
    ctx
      .rateStream({ name: 'words', rowsPerSecond: 1000, startTime: 0, maxRecordsPerBatch: 2, totalRows: 8, generate: (i) => `w${i % 3}` })
      .pipe(
        mapToPair((w: string) => [w, 1]),
        updateStateByKey((ones: number[], n: number | undefined) => (n ?? 0) + ones.length, { name: 'counts' }),
        foreachBatch(() => undefined),
      );
    return ctx;
  };
  /** Starts `ctx`, moves its clock to 5 s (batches 0 to 4), and returns its committed state. */
  const runToEnd = async (ctx: StreamingContext, clock: ManualClock): Promise<Record<string, unknown[]>> => {
    await ctx.start();
    await clock.advanceTo(5000);
    const state = await committedState(ctx);
    await ctx.stop();
    return state;
  };
  try {
    const straightClock = new ManualClock(0);
    const straight = await runToEnd(job('straight', straightClock), straightClock);

    const clock = new ManualClock(0);
    const crashed = job('crashed', clock, { afterWrite: (batchId) => batchId === 1 });
    await crashed.start();
    await clock.advanceTo(5000);
    await expect(crashed.awaitTermination()).rejects.toThrow(SluiceError);
    // A new process: a new context on the same checkpoint, its clock at batch 1's time.
    const restartClock = new ManualClock(2000);
    expect(await runToEnd(job('crashed', restartClock), restartClock)).toEqual(straight);
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
});

/** A push source that writes what it receives to its write-ahead log: an offset is an index in the log. */
class LoggedPushSource implements Source<string> {
  readonly kind = 'logged-push';
  readonly replayable = true;
  #log: WriteAheadLog | undefined;

  start(env: SourceEnvironment): void {
    this.#log = env.writeAheadLog;
  }

  /** Receives records: they are durable, and readable, once the promise resolves. */
  push(records: readonly string[]): Promise<void> {
    return this.#wal().append(records);
  }

  initialOffset(): Offset {
    return 0;
  }

  async latestOffset(start: Offset, maxRecords: number): Promise<Offset> {
    return Math.min(await this.#wal().end(), Number(start) + maxRecords);
  }

  async read(start: Offset, end: Offset): Promise<SourceRead<string>> {
    return { records: await this.#wal().read(Number(start), Number(end)) };
  }

  #wal(): WriteAheadLog {
    if (this.#log === undefined) throw new TypeError('LoggedPushSource runs on a checkpointed context only (it needs a write-ahead log).');
    return this.#log;
  }
}

describe('sourceSuite over a push source that keeps what it receives in a MemoryWriteAheadLog', () => {
  sourceSuite({
    test: it,
    factory: () => {
      let source = new LoggedPushSource();
      let next = 0;
      return {
        source,
        writeAheadLog: new MemoryWriteAheadLog(),
        produce: (n) => source.push(Array.from({ length: n }, () => `r${next++}`)),
        reopen: () => (source = new LoggedPushSource()),
      };
    },
  });
});

test('MemoryWriteAheadLog: appends land in order, a read of released records is a RangeError', async () => {
  const log = new MemoryWriteAheadLog();
  await log.append(['a', 'b', 'c']);
  expect(await log.read(1, 3)).toEqual(['b', 'c']);
  log.release(2);
  expect([await log.first(), await log.end()]).toEqual([2, 3]);
  await expect(log.read(0, 3)).rejects.toThrow(RangeError);
});

describe('sinkSuite over a sink that keeps each batch under its batch id', () => {
  sinkSuite({
    test: it,
    factory: () => {
      const rows = new Map<number, readonly string[]>();
      const fixture: SinkFixture<string> = {
        write: (batchId, records) => {
          rows.set(batchId, records);
          return Promise.resolve();
        },
        read: () => Promise.resolve([...rows].sort(([a], [b]) => a - b)),
      };
      return Promise.resolve(fixture);
    },
    record: (batchId, index) => `${batchId}/${index}`,
  });
});

describe('stateStoreSuite over the memory store', () => {
  stateStoreSuite({ test: it, factory: () => Promise.resolve({ store: new MemoryStateStore() }) });
});

test('assertSameValue: a codec round trip keeps -0, Map entries and key order', () => {
  const value = { total: -0, byKey: new Map([['a', 1]]), at: new Date(0) };
  assertSameValue(decodeValue(encodeValue(value)), value);
  expect(() => {
    assertSameValue({ a: 1, b: 2 }, { b: 2, a: 1 });
  }).toThrow('value: different own keys');
  expect(() => {
    assertSameValue([0], [-0]);
  }).toThrow('value["0"]: different values');
});

test('seededRandom: the same seed gives the same data', () => {
  const words = (seed: number): string[] => {
    const next = seededRandom(seed);
    return Array.from({ length: 5 }, () => ['a', 'b', 'c'][Math.floor(next() * 3)] as string);
  };
  expect(words(42)).toEqual(words(42));
  expect(words(42)).toEqual(['b', 'b', 'c', 'c', 'a']);
});
