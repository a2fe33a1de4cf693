import assert from 'node:assert/strict';
import { ManualClock, StreamingContext, type Clock } from 'sluice';
import { offsetEquals, type Offset, type Source, type SourceEnvironment, type SourceRead, type WriteAheadLog } from 'sluice/extend';

/** A source under test, fresh and with no data yet, with how to give it data. */
export interface SourceFixture<T> {
  readonly source: Source<T>;
  /**
   * Makes exactly `n` more records available to the source: pushes them, writes a file, or
   * advances the clock of a generator.
   */
  readonly produce: (n: number) => Promise<void> | void;
  /** The clock the source is started with (default: a `ManualClock` at 0); `produce` may advance it. */
  readonly clock?: Clock;
  /**
   * The log the source is started with, as a checkpointed context gives one to every source
   * (default: none); `reopen`'s sources are started with the same log, as a restarted job finds
   * it in the checkpoint. {@link MemoryWriteAheadLog} is one.
   */
  readonly writeAheadLog?: WriteAheadLog;
  /**
   * For a replayable source: a fresh instance over the same data, as after a restart (the suite
   * starts it). From then on, `produce` gives data to the fresh instance. Without it, the replay
   * and restart cases are skipped.
   */
  readonly reopen?: () => Promise<Source<T>> | Source<T>;
  readonly cleanup?: () => Promise<void> | void;
}

/** Options of {@link sourceSuite}. */
export interface SourceSuiteOptions<T> {
  /** Registers one case with the test runner (vitest's `it`, node:test's `test`, ...). */
  readonly test: (name: string, fn: () => Promise<void>) => void;
  /** Makes a fresh source, with no data yet, for each case. */
  readonly factory: () => Promise<SourceFixture<T>> | SourceFixture<T>;
}

/** A started source and what the cases use. */
interface Started<T> {
  readonly fixture: SourceFixture<T>;
  readonly source: Source<T>;
  readonly env: SourceEnvironment;
}

/**
 * The conformance suite of the {@link Source} contract: registers one case per law with `test`,
 * the restart case for a fixture that can `reopen` its source (a clean stop, then a kill once a
 * range is logged, once it is read and once it is committed, each followed by a restart: the
 * records read must be those of a run that never stopped, none missed, none twice),
 * each on a fresh source from `factory`, started with a clock, a silent logger, the name
 * `'under-test'` and the fixture's write-ahead log if it has one, and stopped after. It imports
 * no test runner: assertions throw `AssertionError`.
 *
 * @example
 * import { it } from 'vitest';
 * sourceSuite({ test: it, factory: () => { const source = new QueueSource<number>(); return { source, produce: (n) => source.push(range(n)) }; } });
 */
export function sourceSuite<T>(options: SourceSuiteOptions<T>): void {
  const { test, factory } = options;
  const withSource = (name: string, fn: (s: Started<T>) => Promise<void>): void => {
    test(`Source: ${name}`, async () => {
      const fixture = await factory();
      const clock = fixture.clock ?? new ManualClock(0);
      const wal = fixture.writeAheadLog;
      const env: SourceEnvironment = { clock, logger: silentLogger(clock), name: 'under-test', ...(wal === undefined ? {} : { writeAheadLog: wal }) };
      try {
        await fixture.source.start?.(env);
        await fn({ fixture, source: fixture.source, env });
      } finally {
        await fixture.source.stop?.();
        await fixture.cleanup?.();
      }
    });
  };

  withSource('latestOffset returns its start when there is nothing new, and a later offset when there is', async ({ fixture, source }) => {
    const start = source.initialOffset();
    assertSameOffset(await source.latestOffset(start, Number.POSITIVE_INFINITY), start, 'with no data yet');
    await fixture.produce(3);
    const end = await source.latestOffset(start, Number.POSITIVE_INFINITY);
    assert.ok(!offsetEquals(end, start), 'after 3 records were produced, the offset must move');
    assert.equal(countOf(await source.read(start, end)), 3);
    assertSameOffset(await source.latestOffset(end, Number.POSITIVE_INFINITY), end, 'with nothing new after the 3 records');
  });

  withSource('reading the same range twice gives the same records', async ({ fixture, source }) => {
    await fixture.produce(5);
    const start = source.initialOffset();
    const end = await source.latestOffset(start, Number.POSITIVE_INFINITY);
    const first = await source.read(start, end);
    assert.deepStrictEqual(await source.read(start, end), first);
  });

  withSource('consecutive ranges hold at most maxRecords each, and together the records of the whole range', async ({ fixture, source }) => {
    await fixture.produce(10);
    const offsets = await rangesOf(source, source.initialOffset(), 3);
    const parts = [];
    for (let i = 1; i < offsets.length; i++) {
      const read = await source.read(offsets[i - 1] as Offset, offsets[i] as Offset);
      assert.ok(countOf(read) <= 3, `range ${i} holds ${countOf(read)} records, more than maxRecords 3`);
      parts.push(...read.records);
    }
    assert.equal(parts.length, 10, 'the ranges hold every record produced');
    assert.deepStrictEqual(parts, [...(await source.read(offsets[0] as Offset, offsets.at(-1) as Offset)).records]);
  });

  withSource('maxRecords 1 gives one record per range', async ({ fixture, source }) => {
    await fixture.produce(4);
    const offsets = await rangesOf(source, source.initialOffset(), 1);
    assert.equal(offsets.length, 5, 'four ranges of one record');
    for (let i = 1; i < offsets.length; i++) assert.equal(countOf(await source.read(offsets[i - 1] as Offset, offsets[i] as Offset)), 1);
  });

  withSource('offsets survive a JSON round trip (they are logged in the batch plan)', async ({ fixture, source }) => {
    await fixture.produce(4);
    const start = source.initialOffset();
    const end = await source.latestOffset(start, Number.POSITIVE_INFINITY);
    const roundTrip = (o: Offset): Offset => JSON.parse(JSON.stringify(o)) as Offset;
    assertSameOffset(roundTrip(end), end, 'end');
    assert.deepStrictEqual(await source.read(roundTrip(start), roundTrip(end)), await source.read(start, end));
  });

  withSource('after a commit, the later ranges read as before, and new data follows', async ({ fixture, source }) => {
    await fixture.produce(6);
    const offsets = await rangesOf(source, source.initialOffset(), 2);
    const committed = offsets[1] as Offset;
    const last = offsets.at(-1) as Offset;
    const later = await source.read(committed, last);
    await source.commit?.(committed);
    assert.deepStrictEqual(await source.read(committed, last), later);
    await fixture.produce(2);
    const next = await source.latestOffset(last, Number.POSITIVE_INFINITY);
    assert.equal(countOf(await source.read(last, next)), 2);
  });

  withSource('a fresh instance (after a restart) gives the same records for the same offsets', async ({ fixture, source, env }) => {
    if (fixture.reopen === undefined) return;
    assert.equal(source.replayable, true, 'a source the fixture can reopen must say it is replayable');
    await fixture.produce(5);
    const start = source.initialOffset();
    const offsets = await rangesOf(source, start, 2);
    const reads = [];
    for (let i = 1; i < offsets.length; i++) reads.push(await source.read(offsets[i - 1] as Offset, offsets[i] as Offset));
    await source.commit?.(offsets[1] as Offset);
    const fresh = await fixture.reopen();
    try {
      await fresh.start?.(env);
      assertSameOffset(fresh.initialOffset(), start, 'initialOffset');
      for (let i = 2; i < offsets.length; i++) assert.deepStrictEqual(await fresh.read(offsets[i - 1] as Offset, offsets[i] as Offset), reads[i - 1], `range ${i}`);
    } finally {
      await fresh.stop?.();
    }
  });

  test('Source: restarts after a clean stop and after a kill at each point of a batch give every record once, as a run that never stopped', async () => {
    const run = async (restarts: boolean): Promise<unknown[]> => {
      const fixture = await factory();
      if (fixture.reopen === undefined) return [];
      const clock = fixture.clock ?? new ManualClock(0);
      const wal = fixture.writeAheadLog;
      const env: SourceEnvironment = { clock, logger: silentLogger(clock), name: 'under-test', ...(wal === undefined ? {} : { writeAheadLog: wal }) };
      await fixture.source.start?.(env);
      const job = new SimulatedJob(fixture.source);
      try {
        await fixture.produce(3);
        await job.run();
        if (restarts) await job.restart(fixture, env, true);
        for (const kill of ['logged', 'read', 'committed'] as const) {
          await fixture.produce(3);
          await job.run(restarts ? kill : undefined);
          if (restarts) await job.restart(fixture, env, false);
          await job.run();
        }
        return job.delivered;
      } finally {
        await job.stop();
        await fixture.cleanup?.();
      }
    };
    const uninterrupted = await run(false);
    assert.equal(uninterrupted.length, uninterrupted.length === 0 ? 0 : 12, 'the run that never stopped reads the 12 records produced');
    assert.deepStrictEqual(await run(true), uninterrupted, 'the records read across restarts, in order, against the run that never stopped');
  });
}

/** Where a simulated process dies in a batch: once its range is logged, or once it was read, or once it was committed. */
type KillPoint = 'logged' | 'read' | 'committed';

/**
 * Runs a source as the batch runner and a checkpoint would, with batches of at most 2 records: a
 * range is logged before it is read, committed after, and after a restart the logged range is
 * read again before anything new. `stop` ends the instance (gracefully or as a kill) and starts
 * a fresh one from `reopen`.
 */
class SimulatedJob<T> {
  readonly delivered: unknown[] = [];
  #source: Source<T>;
  #committed: Offset;
  #logged: { readonly start: Offset; readonly end: Offset } | undefined;

  constructor(source: Source<T>) {
    this.#source = source;
    this.#committed = source.initialOffset();
  }

  /** Runs batches until one has nothing new, or until `kill` is reached in the first batch with records. */
  async run(kill?: KillPoint): Promise<void> {
    for (;;) {
      const start = this.#committed;
      const end = this.#logged?.end ?? (await this.#source.latestOffset(start, 2));
      if (offsetEquals(end, start)) return;
      this.#logged = { start, end };
      if (kill === 'logged') return;
      const read = await this.#source.read(start, end);
      if (kill === 'read') return;
      this.delivered.push(...read.records, ...(read.badRecords ?? []));
      this.#committed = end;
      this.#logged = undefined;
      await this.#source.commit?.(end);
      if (kill === 'committed') return;
    }
  }

  /** Stops the instance (a clean stop drains what it received first) and starts a fresh one. */
  async restart(fixture: SourceFixture<T>, env: SourceEnvironment, clean: boolean): Promise<void> {
    if (clean) {
      await this.#source.stopReceiving?.();
      await this.run();
    }
    await this.#source.stop?.();
    this.#source = await (fixture.reopen as NonNullable<SourceFixture<T>['reopen']>)();
    await this.#source.start?.(env);
  }

  async stop(): Promise<void> {
    await this.#source.stop?.();
  }
}

/** The offsets of consecutive ranges of at most `maxRecords` from `start` until nothing is new. */
async function rangesOf<T>(source: Source<T>, start: Offset, maxRecords: number): Promise<Offset[]> {
  const offsets = [start];
  for (;;) {
    const end = await source.latestOffset(offsets.at(-1) as Offset, maxRecords);
    if (offsetEquals(end, offsets.at(-1) as Offset)) return offsets;
    offsets.push(end);
    if (offsets.length > 10_000) throw new assert.AssertionError({ message: 'latestOffset never returned its start: the source never runs out of records', operator: 'sourceSuite' });
  }
}

const countOf = (read: SourceRead<unknown>): number => read.records.length + (read.badRecords?.length ?? 0);

function assertSameOffset(actual: Offset, expected: Offset, what: string): void {
  assert.ok(offsetEquals(actual, expected), `${what}: expected offset ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}

/** A silent logger, from a context that never starts (the kit imports no logging library). */
function silentLogger(clock: Clock): SourceEnvironment['logger'] {
  return new StreamingContext({ batchInterval: 1000, clock }).logger.child({ source: 'under-test' });
}
