/*
 * One batch's life (plan, read, compute, commit) and, with the pipelined commit, the overlap of
 * one batch's commit with the next batch's compute. Over 400 lines: the failure rules of the two
 * (which batch fails with whose error) read best beside the steps they guard; splitting the
 * pipelined part out is the next step if it grows.
 */
import type { Logger } from 'pino';
import { Batch } from '../batch.js';
import type { InputRead, ObservedEventTimes, OperatorProgress } from '../batch-context.js';
import type { Clock } from '../clock/clock.js';
import type { CommitRecord } from '../checkpoint-port.js';
import { abortBatch, beginCommit, canPipeline } from '../commit/commit-batch.js';
import { SluiceError, messageOf } from '../errors.js';
import type { BatchProgress, EventTimeStats, SourceProgress, TaskProgress } from '../events.js';
import type { DStreamGraph, GraphNode, GraphOutput } from '../graph.js';
import { InputDStream } from '../sources/input-dstream.js';
import { offsetEquals, type Offset } from '../sources/source.js';
import { time, type Time } from '../time.js';
import type { MultipleWatermarkPolicy } from '../watermark-tracker.js';
import { BatchContextImpl } from './batch-context-impl.js';
import { SourceRates, type BackpressureSettings } from './backpressure.js';
import type { BatchPlan, SourceRange } from './batch-plan.js';
import type { Executor, StageProgress } from './executor.js';

/** What a batch read from its sources. */
interface BatchReads {
  readonly inputs: Map<number, InputRead>;
  readonly sources: SourceProgress[];
}

/** How a batch is planned, besides its id and time. */
export interface PlanOptions {
  /** The batch's processing time (default: the clock's time now); a bounded run passes the batch time. */
  readonly processingTime?: Time;
  /** The most records a batch takes from a source that has no `maxRecordsPerBatch` of its own (default: no limit). */
  readonly maxRecords?: number;
  /** A final batch: it takes no records, and plans the final watermark (`WatermarkTracker.finalPlan`). */
  readonly final?: boolean;
  /** Whether backpressure limits the batch's ranges, where it is on (default true; a bounded run passes false). */
  readonly backpressure?: boolean;
}

/** What the runner needs from its context. */
export interface BatchRunnerDeps {
  readonly graph: DStreamGraph;
  readonly clock: Clock;
  readonly executor: Executor;
  readonly logger: Logger;
  readonly defaultParallelism: number;
  /** The context's backpressure, if on. */
  readonly backpressure?: BackpressureSettings | undefined;
  /** Whether a batch's atomic write may overlap the next batch (the context's `pipelinedCommit`; default false). */
  readonly pipelinedCommit?: boolean;
}

/** A batch whose commit is complete: its progress, and the error that stopped its `committed` calls if one did. */
export interface BatchDone {
  readonly progress: BatchProgress;
  readonly postCommitFailure: SluiceError | undefined;
}

/**
 * Runs one batch through its life: plan (offsets and times fixed), read, compute every output
 * job in order, commit (offsets advance, sources may forget). A failure at any step leaves the
 * offsets where they were: nothing is half-committed.
 */
export class BatchRunner {
  readonly #deps: BatchRunnerDeps;
  readonly #inputs: readonly InputDStream<unknown>[];
  readonly #offsets: Offset[];
  readonly #rates: SourceRates;
  readonly #pipelined: boolean;
  /** The commit of the last batch handed off, until it is complete. */
  #inFlight: Promise<BatchDone> | undefined;
  #zeroTime = time(0);

  constructor(deps: BatchRunnerDeps) {
    this.#deps = deps;
    this.#pipelined = deps.pipelinedCommit ?? false;
    this.#inputs = deps.graph.nodes.filter((node): node is InputDStream<unknown> => node instanceof InputDStream);
    this.#offsets = this.#inputs.map((input) => input.source.initialOffset());
    this.#rates = new SourceRates(this.#inputs, deps.backpressure, deps.graph.batchInterval);
  }

  /** The registered inputs, in registration order. */
  get inputs(): readonly InputDStream<unknown>[] {
    return this.#inputs;
  }

  /** Sources resume where a checkpoint's commit left them. */
  restore(record: CommitRecord): void {
    this.#inputs.forEach((input, i) => {
      const offset = record.offsets[input.sourceName];
      if (offset !== undefined) this.#offsets[i] = offset;
    });
    this.#deps.graph.watermarks.restore(record.watermarks);
  }

  /**
   * Keeps the multiple-watermark policy the checkpoint at `location` was written with, warning
   * when the context's `watermarkPolicy` option asks for another.
   */
  resumeWatermarkPolicy(policy: MultipleWatermarkPolicy, location: string): void {
    const tracker = this.#deps.graph.watermarks;
    if (tracker.policy !== policy) {
      this.#deps.logger.warn(
        { checkpoint: location, watermarkPolicy: policy, option: tracker.policy },
        `the checkpoint was written with watermarkPolicy '${policy}' and keeps it: the context's '${tracker.policy}' is ignored. To change the policy, start on a new checkpoint directory; or set watermarkPolicy: '${policy}' to silence this warning.`,
      );
    }
    tracker.setPolicy(policy);
  }

  /** The offset source `i` stands at. */
  offsetOf(i: number): Offset {
    return this.#offsets[i] as Offset;
  }

  /** The time batch times count from, once the context has fixed it (at start, or from the checkpoint). */
  set zeroTime(zeroTime: Time) {
    this.#zeroTime = zeroTime;
  }

  /** Fixes the batch's offsets and times. */
  async plan(batchId: number, batchTime: Time, options: PlanOptions = {}): Promise<BatchPlan> {
    const processingTime = options.processingTime ?? time(this.#deps.clock.now());
    const ranges: SourceRange[] = [];
    for (const [i, input] of this.#inputs.entries()) {
      const start = this.#offsets[i] as Offset;
      const own = input.maxRecordsPerBatch === Number.POSITIVE_INFINITY ? (options.maxRecords ?? Number.POSITIVE_INFINITY) : input.maxRecordsPerBatch;
      const rated = options.backpressure === false ? Number.POSITIVE_INFINITY : this.#rates.limitOf(i);
      const limit = Math.min(own, rated);
      const end = options.final === true ? start : await this.#sourceCall(input, batchId, batchTime, 'report its latest offset', () => input.source.latestOffset(start, limit, batchTime));
      ranges.push({ source: input.sourceName, start, end, ...(rated < own ? { limit: rated } : {}) });
    }
    const tracker = this.#deps.graph.watermarks;
    const { watermarks, global } = options.final === true ? tracker.finalPlan() : tracker.plan(processingTime, this.#zeroTime);
    return { batchId, batchTime, processingTime, watermark: global, watermarks, ...(tracker.active ? { watermarkPolicy: tracker.policy } : {}), ranges };
  }

  /** Whether any source has records in the plan. */
  static hasData(plan: BatchPlan): boolean {
    return plan.ranges.some((range) => !offsetEquals(range.start, range.end));
  }

  /**
   * Reads, computes, outputs and commits a planned batch.
   *
   * Pipelined (the context's `pipelinedCommit`, with a checkpoint whose every participant can
   * hand a batch off): resolves once the batch's atomic write has started and the batch is handed
   * off, with `inFlight` true; the next batch may then be planned (from this batch's end offsets
   * and watermarks), read and computed while the write is in flight. Its outputs wait for this
   * batch's commit to complete, and fail with this batch's failure if it failed. Otherwise
   * resolves once the batch is committed, as `done` then is.
   *
   * @returns `done`, which settles when the batch's commit is complete: with the batch's progress
   * and the error that stopped the participants' `committed` calls if one did (the batch is
   * committed all the same, and the context must stop); rejected with a SluiceError naming the
   * batch (and the operator, where one failed) when the batch was not committed.
   * @throws SluiceError naming the batch when it failed before its atomic write started.
   */
  async run(plan: BatchPlan, startedAt: number): Promise<{ readonly done: Promise<BatchDone>; readonly inFlight: boolean }> {
    const { batchId } = plan;
    const logger = this.#deps.logger.child({ batchId });
    const graph = this.#deps.graph;
    const previous = this.#inFlight;
    let reads: BatchReads;
    let bc: BatchContextImpl;
    // The plan's log write goes to the checkpoint's database behind the previous batch's atomic
    // write, if that is in flight: LevelDB runs writes one at a time. Awaiting it here would wait
    // for that whole write, so with a write in flight the batch reads and computes meanwhile (no
    // effect leaves the process) and awaits the plan before its outputs, which wait for the
    // previous commit anyway. A crash before the plan is durable leaves nothing of this batch.
    const logged = graph.checkpointer?.logPlan(plan);
    try {
      if (previous === undefined) await logged;
      else logged?.catch(() => undefined); // awaited before the outputs
      reads = await this.#read(plan);
      bc = new BatchContextImpl(plan, { ...this.#deps, logger, watermarks: graph.watermarks, zeroTime: this.#zeroTime }, reads.inputs);
      if (previous !== undefined) {
        // The streams every output writes are computed while the previous batch's write is in
        // flight; the outputs themselves (sinks, foreachBatch) start once its commit is complete.
        for (const output of graph.outputs) await computeStream(output, bc);
        await afterPrevious(previous, plan);
        await logged;
      }
      for (const output of graph.outputs) await output.run(bc);
      // The windows' outputs outlive the batch's records as their last results (by reference).
      if (graph.lastResults.tracking) await graph.lastResults.capture(bc);
      bc.releaseRecords();
    } catch (error) {
      // The previous batch's commit completes (or fails) first: this batch's abort must not touch it.
      const failure = await this.#failure(error, plan, previous);
      // Nothing was prepared: the participants only drop what the batch staged.
      abortBatch(graph, batchId);
      throw failure;
    }
    const pipelined = this.#pipelined && canPipeline(graph);
    let begun: Awaited<ReturnType<typeof beginCommit>>;
    try {
      begun = await beginCommit(graph, plan, () => this.#deps.clock.now(), pipelined);
    } catch (error) {
      throw batchFailure(inCheckpoint(error, graph.checkpointer?.location), plan);
    }
    // The next batch is planned from this one's end offsets (its sources forget only once it committed).
    if (pipelined) this.#moveOffsets(plan);
    const done = begun.done.then(
      async ({ postCommitFailure, checkpointCommit }): Promise<BatchDone> => {
        if (postCommitFailure === undefined) await this.#commitSources(plan, logger);
        let progress = this.#progress(plan, reads, bc, startedAt);
        if (checkpointCommit !== undefined) progress = { ...progress, checkpointCommit };
        if (bc.stages.length > 0) progress = { ...progress, tasks: taskProgressOf(bc.stages) };
        return { progress, postCommitFailure };
      },
      (error: unknown) => {
        throw batchFailure(inCheckpoint(error, graph.checkpointer?.location), plan);
      },
    );
    if (!pipelined) {
      await done.catch(() => undefined);
      return { done, inFlight: false };
    }
    const inFlight = done.finally(() => {
      if (this.#inFlight === inFlight) this.#inFlight = undefined;
    });
    inFlight.catch(() => undefined);
    this.#inFlight = inFlight;
    return { done, inFlight: true };
  }

  /** Resolves once no batch's commit is in flight (whatever its outcome). */
  async settled(): Promise<void> {
    while (this.#inFlight !== undefined) await this.#inFlight.catch(() => undefined);
  }

  /** Whether a batch's commit is in flight. */
  get committing(): boolean {
    return this.#inFlight !== undefined;
  }

  /**
   * The error a batch that did not commit fails with: when the batch before it was still
   * committing and that commit failed (or could not be completed), that failure, for this batch
   * (see {@link predecessorFailure}); otherwise the batch's own.
   */
  async #failure(error: unknown, plan: BatchPlan, previous: Promise<BatchDone> | undefined): Promise<SluiceError> {
    const prior = previous === undefined ? undefined : await previous.then((d) => d.postCommitFailure, (e: unknown) => e);
    if (prior !== undefined) return afterFailedCommit(prior, plan);
    if (isPredecessorFailure(error)) return error;
    return batchFailure(inCheckpoint(error, this.#deps.graph.checkpointer?.location), plan);
  }

  /** The progress event of a batch that committed (operators' figures read after the commit). */
  #progress(plan: BatchPlan, reads: BatchReads, bc: BatchContextImpl, startedAt: number): BatchProgress {
    const operators = withRecordErrors(
      bc.operators.map((o) => (typeof o === 'function' ? o() : o)),
      bc.recordErrors.progress(),
    );
    const finishedAt = this.#deps.clock.now();
    const schedulingDelayMs = Math.max(0, startedAt - plan.batchTime);
    const processingTimeMs = Math.max(0, finishedAt - startedAt);
    const limited = reads.sources.map((source, i): SourceProgress => {
      const limit = plan.ranges[i]?.limit;
      return limit === undefined ? source : { ...source, rateLimit: limit };
    });
    return {
      batchId: plan.batchId,
      batchTime: plan.batchTime,
      numInputRecords: reads.sources.reduce((n, s) => n + s.inputRecords, 0),
      numBadRecords: reads.sources.reduce((n, s) => n + s.badRecords, 0),
      sources: this.#rates.update(limited, finishedAt, processingTimeMs, schedulingDelayMs),
      schedulingDelayMs,
      processingTimeMs,
      totalDelayMs: schedulingDelayMs + processingTimeMs,
      watermark: plan.watermark,
      eventTime: eventTimeStats(plan, bc.eventTimes, this.#deps.graph.nodes),
      lateRecordsDropped: operators.reduce((n, o) => n + (o.lateRecordsDropped ?? 0), 0),
      numDuplicatesDropped: operators.reduce((n, o) => n + (o.duplicatesDropped ?? 0), 0),
      numSkippedRecords: operators.reduce((n, o) => n + (o.skippedRecords ?? 0), 0),
      numDeadLetteredRecords: operators.reduce((n, o) => n + (o.deadLetteredRecords ?? 0), 0),
      operators,
    };
  }

  async #read(plan: BatchPlan): Promise<BatchReads> {
    const inputs = new Map<number, InputRead>();
    const sources: SourceProgress[] = [];
    for (const [i, input] of this.#inputs.entries()) {
      const range = plan.ranges[i] as BatchPlan['ranges'][number];
      const read = offsetEquals(range.start, range.end)
        ? { records: [] }
        : await this.#sourceCall(input, plan.batchId, plan.batchTime, 'read its records', () => input.source.read(range.start, range.end));
      const badRecords = read.badRecords ?? [];
      const first = badRecords[0];
      if (first !== undefined && input.badRecordPolicy === 'fail') {
        throw new SluiceError(
          'BAD_RECORD',
          `Source ${input.sourceName} could not parse ${badRecords.length} record(s); the first${first.location === undefined ? '' : ` (${first.location})`}: ${first.reason}. Fix the input, or register the source with { badRecords: 'deadLetter' } and route input.deadLetters to an output.`,
          { source: input.sourceName },
        );
      }
      const numPartitions = input.numPartitions ?? this.#deps.defaultParallelism;
      inputs.set(input.id, { batch: Batch.of(read.records, numPartitions), badRecords, range });
      const progress: SourceProgress = { source: input.sourceName, inputRecords: read.records.length, badRecords: badRecords.length, startOffset: range.start, endOffset: range.end };
      sources.push('retries' in read && read.retries !== undefined ? { ...progress, retries: read.retries } : progress);
    }
    return { inputs, sources };
  }

  /**
   * Once the batch is committed: moves every source's offset to the batch's end, then lets the
   * sources forget (or acknowledge) what they no longer need. A source that fails to forget is
   * logged, not fatal: the batch is already committed.
   */
  async #commitSources(plan: BatchPlan, logger: Logger): Promise<void> {
    this.#moveOffsets(plan);
    for (const [i, input] of this.#inputs.entries()) {
      const range = plan.ranges[i] as BatchPlan['ranges'][number];
      try {
        await input.source.commit?.(range.end);
      } catch (error) {
        logger.warn({ err: error, source: input.sourceName }, 'a source failed to release committed data');
      }
    }
  }

  /** The next batch reads from where `plan` ends. */
  #moveOffsets(plan: BatchPlan): void {
    plan.ranges.forEach((range, i) => {
      this.#offsets[i] = range.end;
    });
  }

  async #sourceCall<R>(input: InputDStream<unknown>, batchId: number, batchTime: number, what: string, call: () => Promise<R> | R): Promise<R> {
    try {
      return await call();
    } catch (error) {
      if (error instanceof SluiceError) throw error;
      throw new SluiceError('SOURCE_FAILED', `Source ${input.sourceName} failed to ${what}: ${messageOf(error)}`, { source: input.sourceName, batchId, batchTime, cause: error });
    }
  }
}

/**
 * The event-time figures of a batch's progress event: one entry per watermarked stream of the
 * plan, in node order, with what the stream observed (nothing when it had no records) and its
 * planned watermark.
 */
function eventTimeStats(plan: BatchPlan, observed: ReadonlyMap<number, ObservedEventTimes>, nodes: readonly GraphNode[]): EventTimeStats[] {
  return Object.entries(plan.watermarks).map(([key, planned]) => {
    const id = Number(key);
    const seen = observed.get(id);
    return {
      stream: nodes.find((node) => node.id === id)?.describe ?? `node #${key}`,
      count: seen?.count ?? 0,
      min: seen?.min as Time | undefined,
      max: seen?.max as Time | undefined,
      avg: seen?.mean,
      watermark: (planned.value ?? undefined) as Time | undefined,
      idle: planned.idle,
    };
  });
}

/** The operators' own figures with the records each skipped or dead-lettered merged in (one entry per operator). */
function withRecordErrors(operators: OperatorProgress[], counts: readonly OperatorProgress[]): OperatorProgress[] {
  for (const count of counts) {
    const i = operators.findIndex((o) => o.operator === count.operator);
    if (i < 0) operators.push(count);
    else operators[i] = { ...operators[i], ...count };
  }
  return operators;
}

/**
 * State found damaged in a checkpointed context is the checkpoint's damage: a checkpointed
 * context keeps every operator's state in its checkpoint. A `STATE_CORRUPT` raised where the store
 * did not know it (a stored key an operator could not decode) becomes `CHECKPOINT_CORRUPT`, with
 * what to do about a checkpoint.
 */
function inCheckpoint(error: unknown, checkpoint: string | undefined): unknown {
  if (checkpoint === undefined || !(error instanceof SluiceError) || error.code !== 'STATE_CORRUPT') return error;
  return new SluiceError(
    'CHECKPOINT_CORRUPT',
    `The checkpoint at ${checkpoint} is damaged: ${error.message.replace(/\.$/, '')}. Restore the directory from a copy taken while no context ran on it, or start with a new directory; 'sluice inspect --verify ${checkpoint}' reports the damage.`,
    { ...(error.operator === undefined ? {} : { operator: error.operator }), cause: error },
  );
}

/** The error a failed batch ends with: the original code and operator, plus the batch. */
export function batchFailure(error: unknown, plan: BatchPlan): SluiceError {
  const where = `batch ${plan.batchId} (batch time ${plan.batchTime})`;
  const original = error instanceof SluiceError ? error : undefined;
  const code = original?.code ?? 'BATCH_FAILED';
  const operator = original?.operator;
  const userFunction = code === 'USER_FUNCTION_FAILED';
  const advice = userFunction
    ? " Fix the function, or filter out the records it cannot handle, or set the operator's onError option (or the context's) to 'skip' or 'deadLetter' to set such records aside, counted."
    : '';
  const site = original?.site;
  const named = operator === undefined ? undefined : site === undefined ? operator : `${operator} (defined at ${site})`;
  const head = named === undefined ? `B${where.slice(1)} failed` : `Operator ${named} ${userFunction ? 'threw' : 'failed'} in ${where}`;
  const detail = (userFunction ? messageOf(original?.cause) : original?.message ?? messageOf(error)).replace(/\.$/, '');
  return new SluiceError(code, `${head}: ${detail}. The batch was not committed and the context stopped.${advice}`, {
    ...(operator === undefined ? {} : { operator }),
    ...(original?.source === undefined ? {} : { source: original.source }),
    ...(site === undefined ? {} : { site }),
    batchId: plan.batchId,
    batchTime: plan.batchTime,
    cause: userFunction ? original?.cause : error,
  });
}

/** The task figures of a batch whose stages ran on an executor that reports them. */
function taskProgressOf(stages: readonly StageProgress[]): TaskProgress {
  let tasks = 0;
  let retried = 0;
  let speculated = 0;
  for (const stage of stages) {
    tasks += stage.tasks;
    retried += stage.retried;
    speculated += stage.speculated;
  }
  return { tasks, retried, speculated, stages };
}

/** Computes the stream an output writes (memoized in the batch: the output's own run finds it computed). */
async function computeStream(output: GraphOutput, bc: BatchContextImpl): Promise<void> {
  const stream = output.stream as GraphNode & { getOrCompute?: (bc: BatchContextImpl) => Promise<unknown> };
  await stream.getOrCompute?.(bc);
}

/** Waits for the previous batch's commit to complete; its failure is this batch's (see {@link afterFailedCommit}). */
async function afterPrevious(previous: Promise<BatchDone>, plan: BatchPlan): Promise<void> {
  let failure: unknown;
  try {
    failure = (await previous).postCommitFailure;
  } catch (error) {
    failure = error;
  }
  if (failure !== undefined) throw afterFailedCommit(failure, plan);
}

/** The failures of batches that did not commit because the commit of the batch before them failed, and that failure. */
const PREDECESSORS = new WeakMap<SluiceError, SluiceError>();

/**
 * The failure of a batch whose previous batch's commit, in flight while it computed, failed (its
 * atomic write, or completing it): the same code, naming both batches, with the previous batch's
 * failure as its cause. The context stops with the previous batch's failure ({@link predecessorFailure}).
 */
function afterFailedCommit(prior: unknown, plan: BatchPlan): SluiceError {
  const cause = prior instanceof SluiceError ? prior : new SluiceError('BATCH_FAILED', messageOf(prior), { cause: prior });
  const failure = new SluiceError(
    cause.code,
    `Batch ${plan.batchId} (batch time ${plan.batchTime}) was not committed: the commit of the batch before it, in flight while it computed, failed: ${cause.message.replace(/\.$/, '')}. The context stopped; a restart replays both.`,
    { batchId: plan.batchId, batchTime: plan.batchTime, cause },
  );
  PREDECESSORS.set(failure, cause);
  return failure;
}

function isPredecessorFailure(error: unknown): error is SluiceError {
  return error instanceof SluiceError && PREDECESSORS.has(error);
}

/**
 * The failure of the earlier batch whose failed commit failed `error`'s batch, if that is why it
 * failed: the context stops with it.
 */
export function predecessorFailure(error: unknown): SluiceError | undefined {
  return error instanceof SluiceError ? PREDECESSORS.get(error) : undefined;
}
