import type { Logger } from 'pino';
import type { CheckpointStorage, Checkpointer } from './checkpoint-port.js';
import type { Clock } from './clock/clock.js';
import type { OnError } from './error-policy.js';
import type { BackpressureOptions } from './scheduler/backpressure.js';
import type { JobPartition } from './job/job-partition.js';
import type { Executor } from './scheduler/executor.js';
import type { CatchUp } from './scheduler/job-generator.js';
import type { StateBackend } from './state-port.js';
import type { DurationLike } from './time.js';
import type { MultipleWatermarkPolicy } from './watermark-tracker.js';

/** Options of a `StreamingContext`. */
export interface StreamingContextOptions {
  /** How often a batch is cut: ms or a string such as `'1s'` or `'PT0.5S'`. */
  readonly batchInterval: DurationLike;
  /** The clock (default: the wall clock); tests pass a `ManualClock`. */
  readonly clock?: Clock;
  /** A pino logger (default: silent). Sluice logs lifecycle at info and batch summaries at debug. */
  readonly logger?: Logger;
  /**
   * Partitions of input batches and keyed results unless an operator says otherwise (default 1:
   * the inline executor runs every task on the one JavaScript thread, where more partitions only
   * cost; raise it with an executor that runs tasks in parallel).
   */
  readonly defaultParallelism?: number;
  /** Runs the tasks of a batch (default: inline). */
  readonly executor?: Executor;
  /**
   * Where the context checkpoints: state, logs and commits go there, and a restart on it
   * recovers exactly once. `levelCheckpoint(directory, { interval, stateCacheSize })` from
   * `sluice/checkpoint` keeps them in one LevelDB; its `getOrCreate` builds a context on one.
   * A checkpointed context keeps its operators' state in the checkpoint.
   */
  readonly checkpoint?: CheckpointStorage;
  /**
   * Where stateful operators keep their state unless one chooses its own (default: in memory;
   * `LevelStateBackend` from `sluice/state` keeps it on disk). Not with a `checkpoint`, which
   * keeps the state itself so that a restart restores it exactly once.
   */
  readonly stateBackend?: StateBackend;
  /**
   * The partition of a partitioned job this context runs, set by a runner that spreads a job's
   * partitions over instances (`runJob(module, { group })`); the job reads it as `ctx.partition`.
   */
  readonly partition?: JobPartition;
  /**
   * What operators do with a record their user function cannot handle, unless an operator sets
   * its own `onError` (default `'fail'`): `'fail'` fails the batch, `'skip'` drops and counts the
   * record, `'deadLetter'` also sends it to `ctx.deadLetters`. See docs/errors-and-bad-records.md.
   */
  readonly onError?: OnError;
  /**
   * How the watermarks of several watermarked streams combine (Structured Streaming's
   * `spark.sql.streaming.multipleWatermarkPolicy`), in the global watermark and in every operator
   * that reads several (after a `union` or a join). `'min'` (default): the slowest active stream's,
   * so that no stream's records come late because another runs ahead. `'max'`: the fastest active
   * stream's, so that results do not wait for a slow stream, whose records then may be late
   * (dropped or sent to the side output). Idle streams count for neither.
   *
   * A checkpoint records the policy it was started with and keeps it: a restart with another
   * setting runs with the checkpoint's and logs a warning (a checkpoint written before Sluice
   * recorded it keeps `'min'`; one whose program had no watermarked stream takes the option). To
   * change it, start on a new checkpoint directory. See
   * docs/watermarks-and-late-data.md.
   */
  readonly watermarkPolicy?: MultipleWatermarkPolicy;

  /**
   * Backpressure (Spark's `spark.streaming.backpressure.enabled`): `true` (or options) estimates
   * after each batch, per source, the rate the job sustains (a PID controller on the batch's
   * records, processing time and scheduling delay) and limits the next batch to that rate times
   * the batch interval, within the source's own `maxRecordsPerBatch`. The limit is recorded in the
   * batch plan; a replay reads the same range. Each source's `backpressure` option overrides it.
   * Not in bounded runs (`runToCompletion`). Default off. See docs/batches-and-time.md.
   */
  readonly backpressure?: boolean | BackpressureOptions;
  /**
   * The bytes the stateful operators' state caches may hold together, in a checkpoint's LevelDB
   * (an entry counts its key, its encoded value and 100 bytes; the operator holding the most evicts
   * first). Default: a quarter of the heap limit, unless `stateCacheSize` is given. The
   * checkpoint's own `stateCacheBytes` option overrides it. See docs/state.md.
   */
  readonly stateCacheBytes?: number;
  /**
   * The most state entries each stateful operator's cache keeps, in a checkpoint's LevelDB: a count
   * instead of (with `stateCacheBytes`, beside) the byte budget. The checkpoint's own
   * `stateCacheSize` option overrides it.
   */
  readonly stateCacheSize?: number;
  /**
   * How a job that fell behind the clock catches up, after a restart or a batch that ran long:
   * `'every-batch'` (default, Spark Streaming's) runs every missed batch time one by one, each with
   * its own batch time; `'one-batch'` (Structured Streaming's triggers) runs one batch at the latest
   * batch time that has come, reading everything available within each source's limit. The times
   * skipped take no batch, as with `noDataBatches: false`; batch-time windows see no batch there.
   * Meant for jobs whose windows are on event time. See docs/batches-and-time.md.
   */
  readonly catchUp?: CatchUp;
  /**
   * Whether a batch's atomic checkpoint write may overlap the next batch (default `false`): batch
   * N+1 is planned (its plan logged), read and computed while N's write is in flight, on N's state
   * as if N had committed; N+1's outputs (sinks, `foreachBatch`) start only once N's commit is
   * complete, N+1's commit follows N's, and a failure of N's write fails N+1 too and stops the
   * context with N's error. Recovery is the same either way. Only with a checkpoint, and only
   * while every commit participant supports it (`CommitParticipant.handOff`; the built-in ones
   * do). Off by default: it gains only where the write's time off the JavaScript thread is a
   * large part of a batch, which scenario 4 of the benchmarks did not show (bench/README.md), and
   * it holds two batches in memory. See docs/exactly-once.md.
   */
  readonly pipelinedCommit?: boolean;

  // Bounded runs and no-data batches (docs/bounded-runs.md).
  /**
   * Whether a batch runs at every batch interval, input or not (default `true`, Spark Streaming's
   * behaviour: batch-time windows slide, timers and TTL fire, the watermark closes windows on
   * time). `false` runs a batch only in an interval where some source has records: no output, no
   * progress event and no batch id for an idle interval; what only time would fire (a watermark
   * already past a window, a timer, a TTL) waits for the next input. See docs/bounded-runs.md.
   */
  readonly noDataBatches?: boolean;
}

/** Options of `StreamingContext.stop`. */
export interface StopOptions {
  /**
   * `true` finishes the data already received: sources stop receiving, then batches run back to
   * back until every source is drained. `false` (default) stops after the running batch.
   */
  readonly graceful?: boolean;
  /**
   * With `graceful`: after the drain, one final batch with no records and the watermark past every
   * event time (Flink's `MAX_WATERMARK`), so that every event-time window, timer and TTL fires
   * (default `false`). Only in a context with a watermark (`withWatermark`); the final watermark
   * stays in the event-time operators' state, so a flushed checkpoint is finished: a job that goes
   * on later from it would find its windows closed (docs/bounded-runs.md).
   */
  readonly flush?: boolean;
}

/** Options of `StreamingContext.runToCompletion` (docs/bounded-runs.md). */
export interface RunToCompletionOptions {
  /**
   * The most records a batch takes from each source that has no `maxRecordsPerBatch` of its own
   * (default 10 000): a bounded run cuts batches by records, not by the clock.
   */
  readonly maxRecordsPerBatch?: number;
  /**
   * Whether the run ends with a final batch whose watermark is past every event time, so that
   * every event-time window, timer and TTL fires (default `true`). `false` leaves them open, for
   * a backfill that a streaming run of the same job continues on the same checkpoint.
   */
  readonly flush?: boolean;
}

/** What a bounded run did. */
export interface RunSummary {
  /** Batches run (replayed ones and the final batch included). */
  readonly batches: number;
  /** Input records of those batches. */
  readonly records: number;
  /** The id of the last batch that ran, if any did. */
  readonly lastBatchId: number | undefined;
  /** `false` when `stop()` ended the run before its sources did. */
  readonly completed: boolean;
}

/** The default `maxRecordsPerBatch` of a bounded run. */
export const DEFAULT_BOUNDED_BATCH_RECORDS = 10_000;

/**
 * The checkpointer of a context with these options, after checking them.
 *
 * @throws TypeError when `checkpoint` is not a checkpoint storage, or comes with a `stateBackend`.
 */
export function checkpointerOf(options: StreamingContextOptions): Checkpointer | undefined {
  const { checkpoint, stateBackend } = options;
  if (checkpoint === undefined) return undefined;
  if (typeof checkpoint !== 'object' || checkpoint === null || typeof (checkpoint as Partial<CheckpointStorage>).createCheckpointer !== 'function') {
    throw new TypeError(`StreamingContext: checkpoint must be a checkpoint storage such as levelCheckpoint(directory) from 'sluice/checkpoint', got ${typeof checkpoint === 'string' ? JSON.stringify(checkpoint) : typeof checkpoint}.`);
  }
  if (stateBackend !== undefined) {
    throw new TypeError("StreamingContext: a checkpointed context keeps its operators' state in the checkpoint, so that a restart restores it exactly once; remove the stateBackend option (or the checkpoint).");
  }
  return checkpoint.createCheckpointer({
    ...(options.stateCacheSize === undefined ? {} : { stateCacheSize: cacheOption(options.stateCacheSize, 'stateCacheSize') }),
    ...(options.stateCacheBytes === undefined ? {} : { stateCacheBytes: cacheOption(options.stateCacheBytes, 'stateCacheBytes') }),
  });
}

function cacheOption(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw new RangeError(`StreamingContext: ${name} must be a non-negative integer, got ${String(value)}.`);
  return value;
}

/**
 * The context's `watermarkPolicy` option, checked (default `'min'`).
 *
 * @throws TypeError when it is neither `'min'` nor `'max'`.
 */
export function watermarkPolicyOf(options: StreamingContextOptions): MultipleWatermarkPolicy {
  const policy: unknown = options.watermarkPolicy ?? 'min';
  if (policy !== 'min' && policy !== 'max') {
    throw new TypeError(`StreamingContext: watermarkPolicy must be 'min' (follow the slowest watermarked stream) or 'max' (follow the fastest), got ${JSON.stringify(policy) ?? String(policy)}.`);
  }
  return policy;
}
