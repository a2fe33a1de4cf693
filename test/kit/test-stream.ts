/*
 * Over 200 lines: one harness whose methods are a few lines each around one small state machine
 * (the running context, its clock, the armed crash); split, they would share all of it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { combineWatermarks, decodeKey, decodeTime, parseDuration, parsePositiveDuration } from 'sluice/extend';
import { foreachBatch, ManualClock, StreamingContext, type BatchProgress, type DStream, type DurationLike, type Key, type Pair, type SluiceError, type StreamingEvent, type Time } from 'sluice';
import { levelCheckpoint } from 'sluice/checkpoint';
import { MapWithStateDStream, queryableState, type TimeDomain } from 'sluice/state';
import { AddedRecords } from './added-records.js';
import { faultyCheckpoint } from './faulty-checkpoint.js';
import type { CrashStep } from './generators.js';

/** Options of {@link TestStream.create}. */
export interface TestStreamOptions {
  /** The batch interval (default 1000 ms). */
  readonly batchInterval?: DurationLike;
  /** Partitions of each input batch and keyed result (default 2, so partitioning is exercised). */
  readonly numPartitions?: number;
  /** Run on a checkpoint in a fresh temporary directory, which `close()` removes (default false). */
  readonly checkpoint?: boolean;
  /** The manual clock's time at the start, in ms (default 0). */
  readonly startTime?: number;
  /** Called with every context before it starts (the first, and each one after a restart). */
  readonly configure?: (ctx: StreamingContext) => Promise<void> | void;
}

/** The records the stream under test produced in one batch. */
export interface OutputBatch<U> {
  readonly batchId: number;
  readonly batchTime: Time;
  readonly records: readonly U[];
}

/**
 * Where {@link TestStream.crashAndRestart} makes a batch fail: the steps of the kit's
 * {@link CrashStep} that a `TestStream` can inject (see `crashPoints` for all of them).
 */
export type TestStreamCrashStep = Extract<CrashStep, 'afterPlan' | 'beforeCommit' | 'afterCommit' | 'betweenCommitted'>;

const CRASH_POINTS: readonly TestStreamCrashStep[] = ['afterPlan', 'beforeCommit', 'afterCommit', 'betweenCommitted'];

/** A timer a `mapWithState` operator has set and that has not fired yet. */
export interface PendingTimer<K extends Key> {
  readonly key: K;
  readonly time: number;
  readonly domain: TimeDomain;
}

/**
 * A driver for event-time and stateful tests (Structured Streaming's `StreamTest`): the stream
 * `build` makes runs on a manual clock and the test steps it: add records, run batches, move the
 * watermark, crash and restart on a checkpoint, and read the outputs, the operators' state and
 * timers, and the progress events. Close it when done.
 *
 * @example
 * const ts = await TestStream.create((s: DStream<string>) => s.pipe(map((w) => w.toUpperCase())));
 * ts.addBatch(['a', 'b']);
 * expect(await ts.runBatch()).toEqual(['A', 'B']);
 * await ts.close();
 */
export class TestStream<T, U> {
  readonly #build: (input: DStream<T>) => DStream<U>;
  readonly #options: TestStreamOptions;
  readonly #directory: string | undefined;
  readonly #records: T[] = [];
  readonly #outputs = new Map<number, OutputBatch<U>>();
  /** Batch ids in the order their outputs were written (a replay writes again). */
  readonly #written: number[] = [];
  readonly #events: StreamingEvent[] = [];
  #ctx: StreamingContext | undefined;
  #clock: ManualClock;
  #failure: SluiceError | undefined;
  #crash: { readonly at: TestStreamCrashStep; readonly batchId: number } | undefined;
  #watermarkFloor: number | undefined;
  #closed = false;

  private constructor(build: (input: DStream<T>) => DStream<U>, options: TestStreamOptions, directory: string | undefined) {
    this.#build = build;
    this.#options = options;
    this.#directory = directory;
    this.#clock = new ManualClock(options.startTime ?? 0);
  }

  /**
   * Builds the stream under test on an input the test feeds, and starts it.
   *
   * @param build - turns the input stream into the stream under test; called again on each restart,
   * so it must build the same graph. Apply `withWatermark` here for event-time tests.
   * @throws TypeError or RangeError for bad options; whatever `build` or the start throws.
   */
  static async create<T, U>(build: (input: DStream<T>) => DStream<U>, options: TestStreamOptions = {}): Promise<TestStream<T, U>> {
    if (typeof build !== 'function') throw new TypeError('TestStream.create: pass a function that builds the stream under test from the input stream.');
    parsePositiveDuration(options.batchInterval ?? 1000, 'batchInterval');
    if (options.startTime !== undefined && !Number.isFinite(options.startTime)) throw new RangeError(`TestStream.create: startTime must be a finite number of ms, got ${options.startTime}.`);
    const directory = options.checkpoint === true ? await mkdtemp(join(tmpdir(), 'sluice-test-stream-')) : undefined;
    const stream = new TestStream(build, options, directory);
    try {
      await stream.#start(stream.#clock);
    } catch (error) {
      await stream.close();
      throw error;
    }
    return stream;
  }

  /** Queues records for the next batch; records added before one batch all go into it. */
  addBatch(records: readonly T[]): this {
    this.#assertOpen('addBatch');
    for (const record of records) this.#records.push(record);
    return this;
  }

  /**
   * Moves the clock to the next batch time, so the next batch runs.
   *
   * @returns the records the stream under test produced in it (none when it produced no batch,
   * as a window between slides).
   * @throws the `SluiceError` that failed the batch; the stream is then stopped (see `crashAndRestart`).
   */
  async runBatch(): Promise<U[]> {
    return this.#recordsOf(await this.#runTo(this.#nextBatchTime(this.#running('runBatch'))));
  }

  /**
   * Moves processing time forward by `duration`: every batch that becomes due runs.
   *
   * @returns the output batches of the batches that ran.
   * @throws the `SluiceError` that failed a batch.
   */
  async advance(duration: DurationLike): Promise<OutputBatch<U>[]> {
    const ms = parseDuration(duration, 'TestStream.advance');
    this.#running('advance');
    return (await this.#runTo(this.#clock.now() + ms)).map((id) => this.#outputs.get(id) as OutputBatch<U>);
  }

  /**
   * Raises the watermark of every watermarked stream (see `withWatermark`) to at least `time`:
   * the **next batch** uses it, as if its records had been seen. It never lowers a watermark, and
   * records later move it on as usual. It holds across restarts.
   *
   * @throws TypeError when the stream under test has no watermark.
   */
  setWatermark(time: number): void {
    if (!Number.isFinite(time)) throw new RangeError(`TestStream.setWatermark: ${time} is not a finite time in ms.`);
    this.#raiseWatermarks(this.#running('setWatermark'), time);
    this.#watermarkFloor = Math.max(this.#watermarkFloor ?? time, time);
  }

  /**
   * Moves the watermark the next batch uses `duration` past {@link TestStream.watermark}.
   *
   * @throws TypeError when there is no watermark yet (use `setWatermark`).
   */
  advanceWatermark(duration: DurationLike): void {
    const ms = parseDuration(duration, 'TestStream.advanceWatermark');
    const current = this.watermark;
    if (current === undefined) throw new TypeError('TestStream.advanceWatermark: there is no watermark yet (no event seen); set one with setWatermark(time).');
    this.setWatermark(current + ms);
  }

  /** The watermark the next batch will use (idle timeouts aside), or `undefined` before there is one. */
  get watermark(): number | undefined {
    const { streams, global, policy } = this.#running('watermark').graph.watermarks.snapshot();
    const combined = combineWatermarks(Object.values(streams).map((s) => ({ value: s.watermark, idle: false })), policy);
    if (combined === undefined) return global ?? undefined;
    return Math.max(global ?? combined, combined);
  }

  /** Every output batch so far, by batch id; a replayed batch's output replaces the first one. */
  get outputs(): readonly OutputBatch<U>[] {
    return [...this.#outputs.values()].sort((a, b) => a.batchId - b.batchId);
  }

  /** The progress of every completed batch, replays included, in order. */
  get progress(): readonly BatchProgress[] {
    return this.#events.flatMap((e) => (e.type === 'batchCompleted' ? [e.progress] : []));
  }

  /** Every event of every context so far. */
  get events(): readonly StreamingEvent[] {
    return this.#events;
  }

  /** The running context (a new one after each restart). */
  get context(): StreamingContext {
    return this.#running('context');
  }

  /** The clock's time in ms. */
  get time(): number {
    return this.#clock.now();
  }

  /**
   * The state of the stateful operator named `operator`, as of the last completed batch: its
   * `[key, state]` entries in key order (see `queryableState`).
   *
   * @throws TypeError when no stateful operator has that name.
   */
  async state<K extends Key, S>(operator: string): Promise<Pair<K, S>[]> {
    const entries: Pair<K, S>[] = [];
    // eslint-disable-next-line @typescript-eslint/no-deprecated -- the operator is named by the caller
    for await (const entry of queryableState<K, S>(this.#running('state'), operator).entries()) entries.push(entry);
    return entries;
  }

  /**
   * The timers the `mapWithState` operator named `operator` has pending, as of the last completed
   * batch: event-time timers first, each domain by time, then key.
   *
   * @throws TypeError when no `mapWithState` operator has that name.
   */
  async timers<K extends Key>(operator: string): Promise<PendingTimer<K>[]> {
    const node = this.#running('timers').graph.nodes.find((n) => n instanceof MapWithStateDStream && n.describe === operator);
    if (!(node instanceof MapWithStateDStream)) throw new TypeError(`TestStream.timers: no mapWithState operator is named '${operator}'; name it with stateSpec(...).name().`);
    const timers: PendingTimer<K>[] = [];
    // Timer rows are `T <domain char> <8-char time> <key>` (state/state-layout.ts).
    for await (const [row] of node.store.scanCommitted({ prefix: 'T' })) {
      timers.push({ key: decodeKey(row.slice(10)) as K, time: decodeTime(row.slice(2, 10)), domain: row.charAt(1) === 'e' ? 'event' : 'processing' });
    }
    return timers;
  }

  /**
   * Crashes the job and restarts it on its checkpoint, as a new process would: a new context on
   * the same directory, `build` run again, a manual clock at the time the crash happened. With
   * `at`, the next batch fails at that point first: `'afterPlan'` (its plan is logged, no output
   * has written), `'beforeCommit'` (every output has written, the commit is not), `'afterCommit'`
   * (the commit is written, no participant has heard so), `'betweenCommitted'` (the checkpoint
   * heard the commit, the state stores and sinks did not). The restart replays what the checkpoint logged and did not commit.
   * Without `at`, it stops between batches (or after a batch failed) and restarts.
   *
   * @returns the records the stream under test produced in the batches that ran (the crashed
   * batch, and its replay, count once).
   * @throws TypeError without `{ checkpoint: true }`.
   */
  async crashAndRestart(options: { readonly at?: TestStreamCrashStep } = {}): Promise<U[]> {
    this.#assertOpen('crashAndRestart');
    if (this.#directory === undefined) throw new TypeError('TestStream.crashAndRestart: create the stream with { checkpoint: true }, so there is a checkpoint to recover from.');
    const { at } = options;
    const mark = this.#written.length;
    if (at !== undefined) {
      if (!CRASH_POINTS.includes(at)) throw new TypeError(`TestStream.crashAndRestart: at must be one of ${CRASH_POINTS.join(', ')}, got ${JSON.stringify(at)}.`);
      const ctx = this.#running('crashAndRestart');
      const time = this.#nextBatchTime(ctx);
      const batchId = (time - (ctx.zeroTime as number)) / ctx.batchInterval - 1;
      this.#crash = { at, batchId };
      await this.#clock.advanceTo(time);
      this.#crash = undefined;
      this.#failure ??= ctx.failure;
      if (this.#failure === undefined) throw new Error(`TestStream.crashAndRestart: the crash at ${at} of batch ${batchId} did not happen.`);
    }
    await this.#stop();
    this.#clock = new ManualClock(this.#clock.now());
    await this.#start(this.#clock);
    return this.#recordsOf(this.#writtenSince(mark));
  }

  /** Stops the context and removes the temporary checkpoint directory. Safe to call twice. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await this.#stop();
    } finally {
      if (this.#directory !== undefined) await rm(this.#directory, { recursive: true, force: true });
    }
  }

  async #start(clock: ManualClock): Promise<void> {
    const directory = this.#directory;
    const ctx = new StreamingContext({
      batchInterval: this.#options.batchInterval ?? 1000,
      clock,
      defaultParallelism: this.#options.numPartitions ?? 2,
      ...(directory === undefined
        ? {}
        : {
            checkpoint: faultyCheckpoint(levelCheckpoint(directory), {
              beforeWrite: (batchId) => this.#crashes('beforeCommit', batchId),
              afterWrite: (batchId) => this.#crashes('afterCommit', batchId),
              betweenCommitted: (batchId) => this.#crashes('betweenCommitted', batchId),
            }),
          }),
    });
    this.#ctx = ctx;
    this.#failure = undefined;
    ctx.addListener((event) => {
      this.#events.push(event);
      if (event.type === 'batchFailed') this.#failure = event.error;
    });
    const input = ctx.source(new AddedRecords(this.#records), { name: 'input' });
    if (directory !== undefined) {
      // The first output: a crash after the plan fails the batch before any other output writes.
      input.pipe(foreachBatch((_, { batchId }) => {
        if (this.#crashes('afterPlan', batchId)) throw new Error(`injected crash after the plan of batch ${batchId}`);
      }, { name: 'testStream.crash' }));
    }
    this.#build(input).pipe(foreachBatch((records, { batchId, batchTime }) => {
      this.#outputs.set(batchId, { batchId, batchTime, records });
      this.#written.push(batchId);
    }, { name: 'testStream.output' }));
    await this.#options.configure?.(ctx);
    await ctx.start();
    await this.#throwFailure();
    if (this.#watermarkFloor !== undefined) this.#raiseWatermarks(ctx, this.#watermarkFloor);
  }

  /** Runs the batches due by `time`; returns the ids of the batches whose output was written. */
  async #runTo(time: number): Promise<number[]> {
    const mark = this.#written.length;
    await this.#clock.advanceTo(time);
    await this.#throwFailure();
    return this.#writtenSince(mark);
  }

  #writtenSince(mark: number): number[] {
    return [...new Set(this.#written.slice(mark))];
  }

  /** After a failed batch: waits until the context has stopped (its checkpoint closed), then throws. */
  async #throwFailure(): Promise<void> {
    const failure = (this.#failure ??= this.#ctx?.failure);
    if (failure === undefined) return;
    await this.#ctx?.awaitTermination().catch(() => undefined);
    throw failure;
  }

  async #stop(): Promise<void> {
    const ctx = this.#ctx;
    if (ctx === undefined) return;
    await ctx.stop();
    await ctx.awaitTermination().catch(() => undefined);
  }

  #crashes(at: TestStreamCrashStep, batchId: number): boolean {
    return this.#crash?.at === at && this.#crash.batchId === batchId;
  }

  #raiseWatermarks(ctx: StreamingContext, time: number): void {
    const tracker = ctx.graph.watermarks;
    const { streams, global } = tracker.snapshot();
    if (Object.keys(streams).length === 0) throw new TypeError('TestStream.setWatermark: the stream under test has no watermark; apply withWatermark(eventTime, delay) in build.');
    const raised = Object.fromEntries(Object.entries(streams).map(([id, s]) => [id, { ...s, watermark: Math.max(s.watermark ?? time, time) }]));
    tracker.restore({ streams: raised, global });
  }

  #nextBatchTime(ctx: StreamingContext): number {
    const zeroTime = ctx.zeroTime as number;
    return zeroTime + (Math.floor((this.#clock.now() - zeroTime) / ctx.batchInterval) + 1) * ctx.batchInterval;
  }

  #recordsOf(batchIds: readonly number[]): U[] {
    return batchIds.flatMap((id) => this.#outputs.get(id)?.records ?? []);
  }

  #assertOpen(method: string): void {
    if (this.#closed) throw new TypeError(`TestStream.${method}: the stream is closed.`);
  }

  /** The context, which must be running. */
  #running(method: string): StreamingContext {
    this.#assertOpen(method);
    const ctx = this.#ctx;
    if (ctx === undefined || ctx.state !== 'active') {
      const restart = this.#directory === undefined ? 'create a new TestStream' : 'call crashAndRestart() to recover it from its checkpoint';
      throw new TypeError(`TestStream.${method}: the stream has stopped after a failed batch; ${restart}.`);
    }
    return ctx;
  }
}
