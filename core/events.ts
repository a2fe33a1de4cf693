import type { StageProgress } from './scheduler/executor.js';
import type { Logger } from 'pino';
import type { OperatorProgress } from './batch-context.js';
import type { SluiceError } from './errors.js';
import type { Offset } from './sources/source.js';
import type { Time } from './time.js';

/** What one source gave one batch. */
export interface SourceProgress {
  /** The source's name. */
  readonly source: string;
  /** Records read (parsed) in the batch. */
  readonly inputRecords: number;
  /** Records the source could not parse (failed the batch, or went to its dead letters). */
  readonly badRecords: number;
  /** The offset the batch started after. */
  readonly startOffset: Offset;
  /** The offset the batch ended at. */
  readonly endOffset: Offset;
  /** Calls the source tried again after a transient failure for this batch (a lost connection), for sources that retry. */
  readonly retries?: number;
  /** With backpressure: the most records the batch was allowed to take from the source (absent while unbounded). */
  readonly rateLimit?: number;
  /** With backpressure: the rate, in records per second, the source's controller estimates after this batch. */
  readonly estimatedRate?: number;
}

/**
 * The event times of one watermarked stream's records in one batch, and its watermark
 * (Structured Streaming's `eventTime` in `StreamingQueryProgress`), in ms. `min`, `max` and `avg`
 * are `undefined` when the batch had no records from the stream.
 */
export interface EventTimeStats {
  /** The watermarked stream: the `name` given to `withWatermark`, or `withWatermark#<id>`. */
  readonly stream: string;
  /** The batch's records that got an event time from the stream. */
  readonly count: number;
  /** The earliest event time. */
  readonly min: Time | undefined;
  /** The latest event time: with the stream's delay, what the next batch's watermark follows. */
  readonly max: Time | undefined;
  /** The mean event time (it may fall between two ms). */
  readonly avg: number | undefined;
  /** The stream's own watermark in force for the batch (`undefined` before it has seen an event). */
  readonly watermark: Time | undefined;
  /** Whether the stream was idle when the batch was planned (then it held back no operator's watermark). */
  readonly idle: boolean;
}

/** The atomic write of one batch's commit to the checkpoint. */
export interface CheckpointCommitProgress {
  /** How long the write took, in ms. */
  readonly durationMs: number;
  /** The operations written (state rows, log entries, sink rows, the commit record). */
  readonly operations: number;
  /** The bytes of their keys and values (approximate: a string key counts its length). */
  readonly bytes: number;
}

/** The figures of one completed batch (Spark's `BatchInfo` / `StreamingQueryProgress`). */
export interface BatchProgress {
  readonly batchId: number;
  readonly batchTime: Time;
  /** Records read from all sources. */
  readonly numInputRecords: number;
  /** Records no source could parse, over all sources. */
  readonly numBadRecords: number;
  readonly sources: readonly SourceProgress[];
  /** How long after its batch time the batch started (a slow batch delays the next). */
  readonly schedulingDelayMs: number;
  /** How long the batch took, from planning to commit. */
  readonly processingTimeMs: number;
  /** Scheduling delay plus processing time. */
  readonly totalDelayMs: number;
  /**
   * The global event-time watermark the batch used, if any stream has one: every watermarked
   * stream's combined by the context's `watermarkPolicy`.
   */
  readonly watermark: Time | undefined;
  /** Per watermarked stream, in graph order: its records' event times and its watermark (empty without one). */
  readonly eventTime: readonly EventTimeStats[];
  /** Records dropped as late, over all operators. */
  readonly lateRecordsDropped: number;
  /** Records dropped as duplicates (`dropDuplicates`), over all operators. */
  readonly numDuplicatesDropped: number;
  /** Records operators dropped because their user function could not handle them (`onError: 'skip'`). */
  readonly numSkippedRecords: number;
  /** Records operators sent to `ctx.deadLetters` because their user function could not handle them. */
  readonly numDeadLetteredRecords: number;
  /** What each stateful or windowed operator reported. */
  readonly operators: readonly OperatorProgress[];
  /** The batch's atomic write to the checkpoint; absent without a checkpoint. */
  readonly checkpointCommit?: CheckpointCommitProgress;
  /** The batch's tasks, when they ran on worker threads (`runJob` with `workers` above 0); absent inline. */
  readonly tasks?: TaskProgress;
}

/** The tasks of one batch run on worker threads (see {@link BatchProgress.tasks}). */
export interface TaskProgress {
  /** Tasks run, over all stages (a retry or a speculative copy not counted again). */
  readonly tasks: number;
  /** Tasks run again on another worker after theirs failed or died. */
  readonly retried: number;
  /** Speculative copies of slow tasks started (the first result is used). */
  readonly speculated: number;
  /** Each stage in the order it ran: its name (`<operator>/<step>`), figures and time. */
  readonly stages: readonly StageProgress[];
}

/**
 * The event-time part of a batch's debug summary in the log: the watermark and the per-stream
 * event times, left out for a context without watermarks.
 */
export function watermarkLogFields(progress: BatchProgress): { readonly watermark?: Time; readonly eventTime?: readonly EventTimeStats[] } {
  if (progress.eventTime.length === 0) return {};
  return { ...(progress.watermark === undefined ? {} : { watermark: progress.watermark }), eventTime: progress.eventTime };
}

/** Everything a listener is told, as a discriminated union on `type`. */
export type StreamingEvent =
  | { readonly type: 'contextStarted'; readonly zeroTime: Time; readonly batchIntervalMs: number }
  | { readonly type: 'batchStarted'; readonly batchId: number; readonly batchTime: Time; readonly schedulingDelayMs: number }
  | { readonly type: 'batchCompleted'; readonly progress: BatchProgress }
  | { readonly type: 'batchFailed'; readonly batchId: number; readonly batchTime: Time; readonly error: SluiceError }
  | { readonly type: 'contextStopped'; readonly error: SluiceError | undefined };

/** A function told of every {@link StreamingEvent}; it runs synchronously on the scheduler. */
export type StreamingListener = (event: StreamingEvent) => void;

/** Delivers events to listeners; a listener that throws is logged and does not disturb the stream. */
export class ListenerBus {
  readonly #listeners = new Set<StreamingListener>();
  readonly #logger: Logger;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  add(listener: StreamingListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  emit(event: StreamingEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch (error) {
        this.#logger.warn({ err: error, event: event.type }, 'a streaming listener threw; the stream goes on');
      }
    }
  }
}
