/*
 * Over 400 lines on purpose: the composition root. Its start and stop sequences (checkpoint,
 * recovery, sources, replay, the job generator, signals) share the context's private state and
 * order; the pieces they call live in scheduler/, sources/ and commit/.
 */
import type { Logger } from 'pino';
import type { Clock } from './clock/clock.js';
import { SystemClock } from './clock/system-clock.js';
import { DeadLetterDStream } from './dead-letter-dstream.js';
import type { DStream } from './dstream.js';
import { checkOnError, type DeadLetter } from './error-policy.js';
import { SluiceError, messageOf } from './errors.js';
import { ListenerBus, watermarkLogFields, type StreamingListener } from './events.js';
import { DStreamGraph, type ContextState } from './graph.js';
import { silentLogger } from './logger.js';
import type { CheckpointStorage, Checkpointer, Recovery } from './checkpoint-port.js';
import type { JobPartition } from './job/job-partition.js';
import { backpressureOf, type BackpressureSettings } from './scheduler/backpressure.js';
import type { BatchPlan } from './scheduler/batch-plan.js';
import { BatchRunner, predecessorFailure } from './scheduler/batch-runner.js';
import { checkReplayable, recover } from './scheduler/recovery.js';
import { InlineExecutor, type Executor } from './scheduler/executor.js';
import { JobGenerator, type BatchKind, type BatchOutcome, type CatchUp } from './scheduler/job-generator.js';
import { BoundedRun, checkBoundedSources } from './scheduler/bounded-run.js';
import { DirectorySource, type DirectorySourceOptions } from './sources/directory-source.js';
import { InputDStream, type InputOptions } from './sources/input-dstream.js';
import { IterableSource, type IterableSourceOptions } from './sources/iterable-source.js';
import { QueueSource, type QueueSourceOptions } from './sources/queue-source.js';
import { RateSource, type RateRecord, type RateSourceOptions } from './sources/rate-source.js';
import { SocketSource, type SocketSourceOptions } from './sources/socket-source.js';
import type { Source } from './sources/source.js';
import { checkpointerOf, watermarkPolicyOf, type RunSummary, type RunToCompletionOptions, type StopOptions, type StreamingContextOptions } from './context-options.js';
import { handleStopSignals } from './stop-signals.js';
import { parsePositiveDuration, time, type Duration, type Time } from './time.js';


/**
 * The composition root of a streaming job: holds the graph, registers sources, runs batches.
 *
 * @example
 * const ctx = new StreamingContext({ batchInterval: '1s' });
 * ctx.queueStream([['a', 'b'], ['a']]).pipe(countByValue(), print());
 * await ctx.start();
 */
export class StreamingContext {
  /** The batch interval in ms. */
  readonly batchInterval: Duration;
  /** The clock batches are scheduled on. */
  readonly clock: Clock;
  /** The context's logger (silent unless one was given). */
  readonly logger: Logger;
  /** Default partition count. */
  readonly defaultParallelism: number;
  /** The checkpoint storage the context was created with, if it is checkpointed. */
  readonly checkpoint: CheckpointStorage | undefined;
  /**
   * The partition of a partitioned job this context runs (its `partition` option, set by
   * `runJob(module, { group })`), or `undefined` when it runs the whole job: read the input's
   * partition `partition.index` only, and fence writes with `partition.assertOwner()`.
   */
  readonly partition: JobPartition | undefined;
  readonly #graph: DStreamGraph;
  readonly #executor: Executor;
  readonly #bus: ListenerBus;
  #generator: JobGenerator | undefined;
  #runner: BatchRunner | undefined;
  #zeroTime: Time | undefined;
  #stopping: Promise<void> | undefined;
  #replaying: Promise<void> = Promise.resolve();
  #failure: SluiceError | undefined;
  #signals: (() => void) | undefined;
  readonly #termination: Promise<void>;
  #terminate!: (error?: SluiceError) => void;
  #deadLetters: DStream<DeadLetter> | undefined;
  readonly #noDataBatches: boolean;
  readonly #backpressure: BackpressureSettings | undefined;
  readonly #catchUp: CatchUp;
  readonly #pipelinedCommit: boolean;
  #bounded: BoundedRun | undefined;

  constructor(options: StreamingContextOptions) {
    if (typeof options !== 'object' || options === null) {
      throw new TypeError('StreamingContext: pass an options object such as { batchInterval: "1s" }.');
    }
    this.batchInterval = parsePositiveDuration(options.batchInterval, 'batchInterval');
    this.clock = options.clock ?? new SystemClock();
    this.logger = (options.logger ?? silentLogger()).child({ component: 'sluice' });
    const parallelism = options.defaultParallelism ?? 1;
    if (!Number.isInteger(parallelism) || parallelism < 1) {
      throw new RangeError(`defaultParallelism must be a positive integer, got ${parallelism}.`);
    }
    this.defaultParallelism = parallelism;
    this.#executor = options.executor ?? new InlineExecutor();
    this.checkpoint = options.checkpoint;
    this.partition = checkPartition(options.partition);
    if (options.noDataBatches !== undefined && typeof options.noDataBatches !== 'boolean') {
      throw new TypeError(`StreamingContext: noDataBatches must be true or false, got ${JSON.stringify(options.noDataBatches)}.`);
    }
    this.#noDataBatches = options.noDataBatches ?? true;
    this.#backpressure = backpressureOf(options.backpressure);
    if (options.catchUp !== undefined && options.catchUp !== 'every-batch' && options.catchUp !== 'one-batch') {
      throw new TypeError(`StreamingContext: catchUp must be 'every-batch' or 'one-batch', got ${JSON.stringify(options.catchUp)}.`);
    }
    this.#catchUp = options.catchUp ?? 'every-batch';
    if (options.pipelinedCommit !== undefined && typeof options.pipelinedCommit !== 'boolean') {
      throw new TypeError(`StreamingContext: pipelinedCommit must be true or false, got ${JSON.stringify(options.pipelinedCommit)}.`);
    }
    this.#pipelinedCommit = options.pipelinedCommit ?? false;
    const checkpointer = checkpointerOf(options);
    this.#graph = new DStreamGraph(this.batchInterval, {
      checkpointer,
      stateBackend: checkpointer?.stateBackend ?? options.stateBackend,
      onError: checkOnError('StreamingContext', options.onError),
    });
    this.#graph.watermarks.setPolicy(watermarkPolicyOf(options));
    this.#bus = new ListenerBus(this.logger);
    this.#termination = new Promise<void>((resolve, reject) => {
      this.#terminate = (error) => {
        if (error === undefined) resolve();
        else reject(error);
      };
    });
    this.#termination.catch(() => undefined);
  }

  /** `'initialized'` until started, `'active'` while running, `'stopped'` after. */
  get state(): ContextState {
    return this.#graph.state;
  }

  /**
   * The error that stopped the context, or is stopping it, if one did: set as soon as a batch
   * fails (or a committed batch cannot be completed), before the context has finished stopping.
   */
  get failure(): SluiceError | undefined {
    return this.#failure;
  }

  /** The time batch ids count from, fixed at start: batch `k` has time `zeroTime + (k + 1) * batchInterval`. */
  get zeroTime(): Time | undefined {
    return this.#zeroTime;
  }

  /**
   * The records any operator dead-lettered (`onError: 'deadLetter'`), one batch per batch, each
   * with its operator, batch id, error message and code: route it to an output like any stream.
   * Computed from the batch, so a replayed batch gives the same dead letters again. (Records a
   * source could not parse are on that source's `input.deadLetters`.)
   *
   * @example ctx.deadLetters.pipe(foreachBatch((batch) => log(batch.collect())))
   */
  get deadLetters(): DStream<DeadLetter> {
    this.#deadLetters ??= new DeadLetterDStream(this.#graph);
    return this.#deadLetters;
  }

  /** The graph (for operators and tools; not needed by applications). */
  get graph(): DStreamGraph {
    return this.#graph;
  }

  /**
   * Registers a source and returns its stream.
   *
   * @throws TypeError when a source with the same name exists, the context has started, or
   * `badRecords` is not a policy; RangeError for a `maxRecordsPerBatch` or `numPartitions` that is
   * not a positive integer.
   */
  source<T>(source: Source<T>, options: InputOptions = {}): InputDStream<T> {
    const inputs = this.#graph.nodes.filter((n): n is InputDStream<unknown> => n instanceof InputDStream);
    const name = options.name ?? `${source.kind}-${inputs.length}`;
    if (inputs.some((input) => input.sourceName === name)) {
      throw new TypeError(`A source named '${name}' is already registered; give each source a unique name.`);
    }
    const max = options.maxRecordsPerBatch;
    if (max !== undefined && !(max === Number.POSITIVE_INFINITY || (Number.isInteger(max) && max >= 1))) {
      throw new RangeError(`Source ${name}: maxRecordsPerBatch must be a positive integer, got ${max}.`);
    }
    if (options.numPartitions !== undefined && !(Number.isInteger(options.numPartitions) && options.numPartitions >= 1)) {
      throw new RangeError(`Source ${name}: numPartitions must be a positive integer, got ${options.numPartitions}.`);
    }
    if (options.badRecords !== undefined && options.badRecords !== 'fail' && options.badRecords !== 'deadLetter') {
      throw new TypeError(`Source ${name}: badRecords must be 'fail' or 'deadLetter', got ${JSON.stringify(options.badRecords)}.`);
    }
    if (options.backpressure !== undefined && typeof options.backpressure !== 'boolean') {
      throw new TypeError(`Source ${name}: backpressure must be true or false, got ${JSON.stringify(options.backpressure)}.`);
    }
    return new InputDStream(this.#graph, source, name, options);
  }

  /**
   * Spark's `queueStream`: each batch takes the next array of records from `queue`, which the
   * program may keep filling after start. Not replayable after a restart.
   *
   * @example const input = ctx.queueStream<string>([['a', 'b'], ['c']]);
   */
  queueStream<T>(queue: T[][] = [], options: QueueSourceOptions & InputOptions = {}): InputDStream<T> {
    return this.source(new QueueSource(queue, options), options);
  }

  /**
   * Records from an iterable or async iterable, up to `maxRecordsPerBatch` (or `batchSize`,
   * default 1000) per batch. Not replayable after a restart.
   */
  fromIterable<T>(iterable: Iterable<T> | AsyncIterable<T>, options: IterableSourceOptions & InputOptions = {}): InputDStream<T> {
    return this.source(new IterableSource(iterable, options), options);
  }

  /**
   * A deterministic generator of `rowsPerSecond` records per second of clock time from when it
   * starts (also after a restart), timed from `startTime`; replayable. `backfill: true` makes the
   * records timed before now exist at once (see {@link RateSource}).
   *
   * @example ctx.rateStream({ rowsPerSecond: 1000, generate: (i, ts) => ({ user: `u${i % 10}`, ts }) })
   */
  rateStream<T = RateRecord>(options: RateSourceOptions<T> & InputOptions): InputDStream<T> {
    return this.source(new RateSource<T>(options), options);
  }

  /**
   * Spark's `textFileStream`: reads the files that appear in `directory`, once each, in name
   * order, as lines (`format: 'text'`, the default, `'ndjson'` for JSON objects, `'json-values'`,
   * or a parse function; `validate` checks each record). A file is
   * taken once its size and modification time are unchanged between two batches, so a
   * half-written file is not read early; write to a temporary name (`.tmp`, a leading dot) and
   * rename for the file to be taken at the next batches. In a checkpointed context the files taken
   * are recorded in the checkpoint, so a restarted job reads each file once (see
   * {@link DirectorySource}); `maxFilesPerBatch` and `maxFileAge` bound a batch and the record.
   *
   * @example ctx.textFileStream<Click>('data/clicks', { format: 'ndjson', badRecords: 'deadLetter' })
   */
  textFileStream<T = string>(directory: string, options: DirectorySourceOptions<T> & InputOptions = {}): InputDStream<T> {
    return this.source(new DirectorySource<T>(directory, options), options);
  }

  /**
   * Spark's `socketTextStream`: connects to `host:port` as a TCP client and reads lines
   * (`format: 'text'`, the default, `'ndjson'` for JSON objects, `'json-values'`, or a parse
   * function; `validate` checks each record), reconnecting when the connection drops. In a
   * checkpointed context, received lines are written to the receiver write-ahead log in the
   * checkpoint before a batch reads them, so a restarted job replays them; lines still in flight
   * when the process dies are lost (TCP has no acknowledgements). Memory is bounded: a line longer
   * than `maxLineLength` (1 MiB) is a bad record, and reading pauses while `highWaterMark` lines
   * or `maxBufferedBytes` (64 MiB) wait for a commit (see {@link SocketSource}).
   *
   * @example ctx.socketTextStream('localhost', 9999).pipe(flatMap((l) => l.split(' ')), countByValue(), print())
   */
  socketTextStream<T = string>(host: string, port: number, options: SocketSourceOptions<T> & InputOptions = {}): InputDStream<T> {
    return this.source(new SocketSource<T>(host, port, options), options);
  }

  /**
   * Subscribes to progress and lifecycle events.
   *
   * @returns a function that unsubscribes.
   */
  addListener(listener: StreamingListener): () => void {
    return this.#bus.add(listener);
  }

  /**
   * Starts the sources and the batch schedule. The first batch runs at `zeroTime + batchInterval`.
   *
   * @throws TypeError when the context was already started or has no output operation.
   */
  async start(): Promise<void> {
    this.#checkStartable('start');
    const generator = await this.#open();
    if (generator !== undefined && this.#stopping === undefined) generator.start();
  }

  /**
   * Runs the job over sources that end, as fast as the machine allows, and stops (Structured
   * Streaming's `Trigger.AvailableNow`, Flink's bounded execution): the same program as
   * `start()`, with batches cut by record count instead of the clock. Batch times still advance
   * by the batch interval from the zero time, and each batch's processing time is its batch time,
   * so batch-time windows, processing-time timers and TTL are deterministic. Each source ends at
   * the data it has at the start (a directory source: the files present then; an iterable: its
   * end; a rate source: `totalRows`). At the end, unless `flush: false`, a final batch with the
   * watermark past every event time fires every event-time window, timer and TTL (processing-time
   * ones do not fire: processing time ends at the last batch time). A checkpointed run that was
   * killed resumes where it stopped when run again, exactly once. See docs/bounded-runs.md.
   *
   * @returns what the run did; `completed: false` when `stop()` ended it early.
   * @throws TypeError when a source cannot end (a socket, a custom source without
   * `prepareForBoundedRun`, a rate source without `totalRows`), naming it; when the context was
   * started or has no output operation; RangeError for a bad `maxRecordsPerBatch`. Rejects with
   * the `SluiceError` that stopped the run after a failure (as `awaitTermination()` does).
   * @example
   * const ctx = new StreamingContext({ batchInterval: '1m' });
   * ctx.textFileStream<Click>('history/', { format: 'ndjson' }).pipe(withWatermark((c) => c.ts, '5m'), ...);
   * const { batches, records } = await ctx.runToCompletion({ maxRecordsPerBatch: 50_000 });
   */
  async runToCompletion(options: RunToCompletionOptions = {}): Promise<RunSummary> {
    this.#checkStartable('runToCompletion');
    const bounded = new BoundedRun(options);
    checkBoundedSources(this.#graph);
    this.#bounded = bounded;
    const generator = await this.#open();
    // A stop requested while the run opened (a signal) ends it before its first new batch.
    if (!bounded.summary().completed) generator?.interrupt();
    this.#stopping ??= this.#stop(true, bounded.flush);
    await this.#stopping;
    if (this.#failure !== undefined) throw this.#failure;
    return bounded.summary();
  }

  /** @throws TypeError when the context cannot start. */
  #checkStartable(method: string): void {
    if (this.#graph.state !== 'initialized') {
      throw new TypeError(`StreamingContext.${method}: the context has already ${this.#graph.state === 'active' ? 'started' : 'stopped'}; create a new context to run again.`);
    }
    if (this.#graph.outputs.length === 0) {
      throw new TypeError(`StreamingContext.${method}: no output operations are registered, so nothing would run; end a chain with foreachBatch, print or saveAsTextFiles.`);
    }
  }

  /**
   * Opens the checkpoint and the extensions, recovers, starts the sources and replays the logged
   * batches.
   *
   * @returns the job generator, after the last replayed batch; `undefined` when a replayed batch failed.
   */
  async #open(): Promise<JobGenerator | undefined> {
    this.#graph.state = 'active';
    const checkpointer = this.#graph.checkpointer;
    const runner = new BatchRunner({ graph: this.#graph, clock: this.clock, executor: this.#executor, logger: this.logger, defaultParallelism: this.defaultParallelism, backpressure: this.#backpressure, pipelinedCommit: this.#pipelinedCommit });
    this.#runner = runner;
    // The checkpoint, then the extensions (state stores), then recovery, then the sources.
    try {
      await checkpointer?.open();
      for (const hook of this.#graph.services.startHooks) await hook();
    } catch (error) {
      await this.#runStopHooks();
      throw this.#failStart(error instanceof SluiceError ? error : new SluiceError('BATCH_FAILED', `The streaming context could not start: ${messageOf(error)}`, { cause: error }));
    }
    const now = this.clock.now();
    let zeroTime = now - (now % this.batchInterval);
    let recovery: Recovery | undefined;
    const failRecovery = async (error: unknown, sourcesStarted: boolean): Promise<never> => {
      if (sourcesStarted) await this.#stopSources(runner.inputs);
      await this.#runStopHooks();
      throw this.#failStart(error instanceof SluiceError ? error : new SluiceError('CHECKPOINT_CORRUPT', `The checkpoint could not be read: ${messageOf(error)}`, { cause: error }));
    };
    // The checkpoint is accepted before any source starts: a refused start must not let a source
    // connect, receive, or write to the checkpoint.
    try {
      recovery = checkpointer === undefined ? undefined : await recover(checkpointer, this.#graph, runner, zeroTime);
    } catch (error) {
      await failRecovery(error, false);
    }
    try {
      await this.#startSources(runner, checkpointer);
    } catch (error) {
      await this.#runStopHooks();
      throw error;
    }
    if (this.#bounded !== undefined) {
      try {
        await this.#bounded.prepare(runner.inputs);
      } catch (error) {
        await this.#stopSources(runner.inputs);
        await this.#runStopHooks();
        const failure = this.#failStart(new SluiceError('SOURCE_FAILED', messageOf(error), { cause: error }));
        throw error instanceof TypeError ? error : failure;
      }
    }
    try {
      checkReplayable(recovery, runner);
      const identity = checkpointer?.id === undefined ? undefined : { id: checkpointer.id, location: checkpointer.location };
      for (const participant of this.#graph.commitParticipants) await participant.initialize?.(recovery?.restored?.batchId, identity);
    } catch (error) {
      await failRecovery(error, true);
    }
    for (const change of recovery?.changes ?? []) this.logger.info({ checkpoint: checkpointer?.location }, `upgrade: ${change}`);
    zeroTime = recovery?.zeroTime ?? zeroTime;
    this.#zeroTime = time(zeroTime);
    runner.zeroTime = this.#zeroTime;
    this.#generator = new JobGenerator({
      clock: this.clock,
      interval: this.batchInterval,
      zeroTime: this.#zeroTime,
      noDataBatches: this.#noDataBatches,
      catchUp: this.#catchUp,
      commits: { inFlight: () => runner.committing, settled: () => runner.settled() },
      runBatch: (batchId, batchTime, kind) => this.#runBatch(runner, batchId, batchTime, kind, undefined),
    });
    this.logger.info({ batchIntervalMs: this.batchInterval, zeroTime: this.#zeroTime, sources: runner.inputs.map((i) => i.sourceName) }, 'streaming context started');
    this.#bus.emit({ type: 'contextStarted', zeroTime: this.#zeroTime, batchIntervalMs: this.batchInterval });
    const generator = this.#generator;
    const replay = this.#replay(runner, recovery, generator);
    this.#replaying = replay.then(() => undefined);
    return (await replay) ? generator : undefined;
  }

  /**
   * Replays the logged batches of a recovery, and moves the generator past them. A stop requested
   * meanwhile waits for the replay: a logged batch must run as logged, never be planned anew.
   *
   * @returns whether every logged batch succeeded.
   */
  async #replay(runner: BatchRunner, recovery: Recovery | undefined, generator: JobGenerator): Promise<boolean> {
    const restored = recovery?.restored;
    // A commit written by an earlier version has no batch time: its batches were on the grid, with no gap.
    if (restored !== undefined) generator.resumeAfter(restored.batchId, restored.batchTime ?? (this.#zeroTime as number) + (restored.batchId + 1) * this.batchInterval);
    for (const plan of recovery?.replay ?? []) {
      this.logger.info({ batchId: plan.batchId }, 'replaying a logged batch');
      if ((await this.#runBatch(runner, plan.batchId, plan.batchTime, 'always', plan)) !== 'completed') return false;
      generator.resumeAfter(plan.batchId, plan.batchTime);
    }
    // start() resolves with the replayed batches committed, as without the pipelined commit.
    await runner.settled();
    return this.#failure === undefined;
  }

  /**
   * Stops the context; see {@link StopOptions}. Resolves when it has stopped. Do not await it from
   * inside a batch (an output function or listener): the batch would wait for itself.
   */
  stop(options: StopOptions = {}): Promise<void> {
    if (this.#graph.state === 'stopped' && this.#stopping === undefined) return Promise.resolve();
    if (this.#bounded !== undefined) {
      // A bounded run stops by itself: a stop ends it after the running batch, and waits for it.
      this.#bounded.interrupt();
      this.#generator?.interrupt();
      return this.#termination.catch(() => undefined);
    }
    this.#stopping ??= this.#stop(options.graceful ?? false, options.flush ?? false);
    return this.#stopping;
  }

  /**
   * Stops the context when the process receives SIGTERM (a container's stop) or SIGINT (Ctrl-C):
   * at the first signal gracefully, as `stop({ graceful: true })` (the batch in flight finishes and
   * commits, and the data the sources already have is processed); at a second one at once: the
   * handlers are removed and the signal raised again, so the process ends by it (a checkpointed
   * context recovers on the next start, exactly once, as after any kill). Call it before or after
   * `start()`; the handlers are removed when the context stops.
   *
   * @returns the context.
   * @throws TypeError when the context has stopped.
   * @example
   * await ctx.start();
   * ctx.stopOnSignals();
   * await ctx.awaitTermination();
   */
  stopOnSignals(): this {
    if (this.#graph.state === 'stopped') throw new TypeError('StreamingContext.stopOnSignals: the context has stopped.');
    if (this.#signals !== undefined) return this;
    const remove = handleStopSignals(
      (signal) => {
        this.logger.info({ signal }, 'stop signal received: stopping gracefully (send it again to stop at once)');
        void this.stop({ graceful: true });
      },
      (signal) => {
        this.logger.warn({ signal }, 'second stop signal received: stopping at once');
      },
    );
    this.#signals = remove;
    void this.#termination.then(remove, remove);
    return this;
  }

  /** Resolves when the context stops; rejects with the `SluiceError` that stopped it after a failure. */
  awaitTermination(): Promise<void> {
    return this.#termination;
  }

  async #startSources(runner: BatchRunner, checkpointer: Checkpointer | undefined): Promise<void> {
    const started: InputDStream<unknown>[] = [];
    for (const input of runner.inputs) {
      try {
        const writeAheadLog = checkpointer?.writeAheadLog?.(input.sourceName);
        const logger = this.logger.child({ source: input.sourceName });
        await input.source.start?.({ clock: this.clock, logger, name: input.sourceName, ...(writeAheadLog === undefined ? {} : { writeAheadLog }) });
        started.push(input);
      } catch (error) {
        await this.#stopSources(started);
        // A coded error (a damaged checkpoint log, say) keeps its code.
        if (error instanceof SluiceError) throw this.#failStart(error);
        throw this.#failStart(new SluiceError('SOURCE_FAILED', `Source ${input.sourceName} failed to start: ${messageOf(error)}`, { source: input.sourceName, cause: error }));
      }
    }
  }

  /** Ends a start that failed: the context is stopped and terminated with `failure`. */
  #failStart(failure: SluiceError): SluiceError {
    this.#failure = failure;
    this.#graph.state = 'stopped';
    this.logger.error({ err: failure, code: failure.code }, 'streaming context failed to start');
    this.#bus.emit({ type: 'contextStopped', error: failure });
    this.#terminate(failure);
    return failure;
  }

  async #runStopHooks(): Promise<void> {
    const hooks = [...this.#graph.services.stopHooks];
    const checkpointer = this.#graph.checkpointer;
    if (checkpointer !== undefined) hooks.push(() => checkpointer.close());
    for (const hook of hooks) {
      try {
        await hook();
      } catch (error) {
        this.logger.warn({ err: error }, 'a stop hook failed');
      }
    }
  }

  async #stopSources(inputs: readonly InputDStream<unknown>[]): Promise<void> {
    for (const input of inputs) {
      try {
        await input.source.stop?.();
      } catch (error) {
        this.logger.warn({ err: error, source: input.sourceName }, 'a source failed to stop');
      }
    }
  }

  async #stop(graceful: boolean, flush: boolean): Promise<void> {
    const wasActive = this.#graph.state === 'active';
    const runner = this.#runner;
    if (wasActive && runner !== undefined) {
      await this.#replaying;
      // A bounded run's sources end by themselves: they keep reading what they have.
      if (graceful && this.#bounded === undefined) for (const input of runner.inputs) await input.source.stopReceiving?.();
      const drain = graceful && this.#failure === undefined;
      // The final batch fires what a watermark past every event time fires: nothing without one.
      await this.#generator?.stop(drain, drain && flush && this.#graph.watermarks.active);
      // A pipelined commit still in flight completes before the sources stop and the checkpoint closes.
      await runner.settled();
      await this.#stopSources(runner.inputs);
    }
    if (wasActive) await this.#runStopHooks();
    this.#graph.state = 'stopped';
    this.logger.info({ graceful, failed: this.#failure !== undefined }, 'streaming context stopped');
    this.#bus.emit({ type: 'contextStopped', error: this.#failure });
    this.#terminate(this.#failure);
  }

  async #runBatch(runner: BatchRunner, batchId: number, batchTime: Time, kind: BatchKind, logged: BatchPlan | undefined): Promise<BatchOutcome> {
    if (this.#failure !== undefined) return 'failed';
    const startedAt = this.clock.now();
    let run: Awaited<ReturnType<BatchRunner['run']>>;
    try {
      const plan = logged ?? (await runner.plan(batchId, batchTime, this.#bounded?.planOptions(batchTime, kind) ?? { final: kind === 'final' }));
      if (kind === 'withData' && !BatchRunner.hasData(plan)) {
        this.logger.debug({ batchTime }, 'no source has records: no batch');
        return 'noData';
      }
      this.#bus.emit({ type: 'batchStarted', batchId, batchTime, schedulingDelayMs: Math.max(0, startedAt - batchTime) });
      run = await runner.run(plan, startedAt);
    } catch (error) {
      return this.#batchFailed(error, batchId, batchTime);
    }
    const outcome = run.done.then(
      ({ progress, postCommitFailure }): BatchOutcome => {
        this.logger.debug({ batchId, batchTime, records: progress.numInputRecords, processingTimeMs: progress.processingTimeMs, schedulingDelayMs: progress.schedulingDelayMs, ...watermarkLogFields(progress) }, 'batch completed');
        this.#bounded?.count(progress);
        this.#bus.emit({ type: 'batchCompleted', progress });
        if (postCommitFailure === undefined) return 'completed';
        this.#fail(postCommitFailure, 'a batch committed, but completing its commit failed; stopping the streaming context');
        return 'failed';
      },
      (error: unknown) => this.#batchFailed(error, batchId, batchTime),
    );
    // Pipelined: the batch's commit completes while the next batch runs; its failure stops the context then.
    return run.inFlight ? 'completed' : outcome;
  }

  /** Reports a batch that did not commit, and stops the context (with the failed commit of the batch before it, when that failed it). */
  #batchFailed(error: unknown, batchId: number, batchTime: Time): 'failed' {
    const failure = error instanceof SluiceError ? error : new SluiceError('BATCH_FAILED', String(error), { batchId, batchTime, cause: error });
    this.#bus.emit({ type: 'batchFailed', batchId, batchTime, error: failure });
    this.#fail(predecessorFailure(failure) ?? failure, 'batch failed; stopping the streaming context');
    return 'failed';
  }

  /** Stops the context after a failure: no further batch, and `awaitTermination()` rejects with it. */
  #fail(failure: SluiceError, message: string): void {
    // The first failure stops the context (a batch whose predecessor's commit failed fails with it).
    if (this.#failure === undefined) {
      this.#failure = failure;
      this.logger.error({ err: failure, batchId: failure.batchId, code: failure.code }, message);
    }
    this.#generator?.halt();
    void this.stop();
  }
}

/** @throws TypeError for a `partition` option that is not a {@link JobPartition}. */
function checkPartition(partition: JobPartition | undefined): JobPartition | undefined {
  if (partition === undefined) return undefined;
  const p = partition as Partial<JobPartition> | null;
  if (typeof p !== 'object' || p === null || typeof p.group !== 'string' || !Number.isSafeInteger(p.count) || (p.count as number) < 1 || !Number.isSafeInteger(p.index) || (p.index as number) < 0 || (p.index as number) >= (p.count as number) || typeof p.assertOwner !== 'function') {
    throw new TypeError('StreamingContext: partition must be { group, index, count, assertOwner() } with 0 <= index < count (runJob sets it for a group).');
  }
  return partition;
}
