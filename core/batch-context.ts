import type { Logger } from 'pino';
import type { Batch } from './batch.js';
import type { RecordErrors } from './error-policy.js';
import type { Executor, StageContext, StageProgress } from './scheduler/executor.js';
import type { SourceRange } from './scheduler/batch-plan.js';
import type { BadRecord } from './sources/source.js';
import type { Time } from './time.js';

/** What an operator reports about itself for a batch's progress event. */
export interface OperatorProgress {
  /** The operator's description (`reduceByKey#4` or its name). */
  readonly operator: string;
  /**
   * The keys of state the operator holds after the batch: the keys of `updateStateByKey` and
   * `mapWithState` (their deadline, timer and version rows not counted); the (key, window)
   * entries of an event-time window (for sliding windows, (key, pane); for session windows, keys
   * with open sessions; for `windowJoin`, (key, window) too); for a batch-time window, the records
   * of the batches it holds plus the keys of an incremental window's running result; for
   * `intervalJoin`, the records both sides hold. Absent when the store cannot tell (a LevelDB
   * store written by an earlier version, until its first commit).
   */
  readonly stateRows?: number;
  /** Approximate bytes of every row the operator stores (its index, deadline and timer rows included), where its store knows them. */
  readonly stateBytes?: number;
  /** Records the operator dropped as late. */
  readonly lateRecordsDropped?: number;
  /** Records the operator dropped as duplicates of a record seen before (`dropDuplicates`). */
  readonly duplicatesDropped?: number;
  /** Records its user function could not handle that it dropped (`onError: 'skip'`). */
  readonly skippedRecords?: number;
  /** Records its user function could not handle that it sent to `ctx.deadLetters` (`onError: 'deadLetter'`). */
  readonly deadLetteredRecords?: number;
  /** Records a sink wrote to its external system in this batch. */
  readonly recordsWritten?: number;
  /** Attempts a sink or source retried in this batch after a transient failure (a lost connection). */
  readonly retries?: number;
  /** Whether a sink found the batch already written (a replay after a crash) and wrote nothing. */
  readonly alreadyWritten?: boolean;
}

/** What a watermarked stream saw of its records' event times in one batch (at least one record). */
export interface ObservedEventTimes {
  /** Records with an event time. */
  readonly count: number;
  readonly min: number;
  readonly max: number;
  /** The mean event time. */
  readonly mean: number;
}

/**
 * Everything an operator may depend on while it computes one batch. All of it is fixed in the
 * batch's plan before computing, so a re-run of the batch sees the same values.
 */
export interface BatchContext extends StageContext {
  /** The batch id, counting from 0. */
  readonly batchId: number;
  /**
   * The batch time: `zeroTime + n * batchInterval` for some `n > batchId` (`n = batchId + 1`
   * unless intervals without input were skipped, `noDataBatches: false`).
   */
  readonly batchTime: Time;
  /** The time batch times count from (`StreamingContext.zeroTime`): batch times lie on its grid of batch intervals. */
  readonly zeroTime: Time;
  /** The processing time recorded when the batch was planned. */
  readonly processingTime: Time;
  /** The event-time watermark this batch uses, if any stream defines one. */
  readonly watermark: Time | undefined;
  /** Runs the batch's tasks. */
  readonly executor: Executor;
  /** A logger with the batch id bound. */
  readonly logger: Logger;
  /** The default number of partitions for keyed operators. */
  readonly defaultParallelism: number;
  /**
   * The watermark of the watermarked streams with these node ids, as planned for this batch,
   * combined by the context's `watermarkPolicy` (see `combineWatermarks`): by `'min'` the minimum
   * over the active ones, by `'max'` the maximum over those that have seen an event (all idle: the
   * maximum of them all); `undefined` before they have seen events.
   */
  watermarkOf(ids: readonly number[]): Time | undefined;
  /**
   * Records the largest event time a watermarked stream saw in this batch (`null`: no record),
   * and, for the batch's progress event, what its records' event times were (`observed`).
   */
  observeEventTime(id: number, maxEventTime: number | null, observed?: ObservedEventTimes): void;
  /**
   * Adds an operator's figures to the batch's progress event. A function is called once the
   * batch has committed, for figures only known then (the state rows after the commit).
   */
  reportOperator(progress: OperatorProgress | (() => OperatorProgress)): void;
  /**
   * Where operators count the records they skip or dead-letter in this batch (see
   * `ErrorPolicy.reject`, which operators call with it).
   */
  readonly recordErrors: RecordErrors;
  /** Adds a stage's task figures to the batch's progress event (called by executors that run tasks elsewhere). */
  reportStage(figures: StageProgress): void;
  /** Returns the batch a stream produced for this batch, computing it once (internal memo). */
  memo<T>(id: number, compute: () => Promise<Batch<T> | undefined>): Promise<Batch<T> | undefined>;
  /** The input read from the source with this id (internal). */
  input(sourceId: number): InputRead;
}

/** What a source gave a batch: its records, the records it could not parse, and the batch's range of its offsets. */
export interface InputRead {
  readonly batch: Batch<unknown>;
  readonly badRecords: readonly BadRecord[];
  /** The source's range in the batch's plan (for a source whose batch is a version of a table: the version in force). */
  readonly range: SourceRange;
}
