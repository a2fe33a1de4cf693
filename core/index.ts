/**
 * `sluice`: the application API of the core engine. Streams and their operators, sources, output
 * operations, the clock, the streaming context, events and errors. Every name is listed here on
 * purpose; the API for authors of operators, sources, sinks and state stores is `sluice/extend`.
 */
export { Batch, type BatchLike } from './batch.js';
export type { OperatorProgress } from './batch-context.js';
export { ManualClock, SystemClock, type Cancel, type Clock } from './clock/index.js';
export { DStream, type Operator, type UnaryFunction } from './dstream.js';
export type { DeadLetter, OnError, OnErrorOptions } from './error-policy.js';
export { ERROR_CODES, SluiceError, type ErrorContext, type SluiceErrorCode } from './errors.js';
export type { BatchProgress, CheckpointCommitProgress, EventTimeStats, SourceProgress, StreamingEvent, StreamingListener, TaskProgress } from './events.js';
export type { StageProgress } from './scheduler/executor.js';
export type { ContextState } from './graph.js';
export type { Key, KeyPart, Pair } from './key.js';
export { defineJob, isJobDefinition, type JobBuild, type JobDefinition, type JobOverrides } from './job/define-job.js';
export type { JobPartition } from './job/job-partition.js';
export { runJob, type RunJobInGroupOptions, type RunJobOptions } from './parallel/run-job.js';
export type { JobGroupEvent, JobGroupRun, RunJobGroupOptions } from './parallel/job-group.js';
export { cogroup } from './keyed/cogroup.js';
export { combineByKey, type KeyedOptions } from './keyed/combine-by-key.js';
export { flatMapValues } from './keyed/flat-map-values.js';
export { groupByKey } from './keyed/group-by-key.js';
export { fullOuterJoin, join, leftOuterJoin, rightOuterJoin, type JoinSide } from './keyed/join.js';
export { mapValues } from './keyed/map-values.js';
export { reduceByKey } from './keyed/reduce-by-key.js';
export type { StaticDataset } from './operators/constant.js';
export { count, countByValue, reduce } from './operators/count.js';
export { filter } from './operators/filter.js';
export { flatMap } from './operators/flat-map.js';
export { glom, mapPartitions } from './operators/map-partitions.js';
export { keyBy, mapToPair } from './operators/map-to-pair.js';
export { map } from './operators/map.js';
export { repartition } from './operators/repartition.js';
export { transform, transformWith } from './operators/transform.js';
export { union } from './operators/union.js';
export { foreachBatch } from './output/foreach-batch.js';
export type { BatchInfo } from './output/output-operation.js';
export { print, type PrintOptions } from './output/print.js';
export { saveAsTextFiles } from './output/save-as-text-files.js';
export { DirectorySource, type DirectorySourceOptions } from './sources/directory-source.js';
export { InputDStream, type BadRecordPolicy, type InputOptions } from './sources/input-dstream.js';
export { IterableSource, type IterableSourceOptions } from './sources/iterable-source.js';
export { QueueSource, type QueueSourceOptions } from './sources/queue-source.js';
export { RateSource, type RateRecord, type RateSourceOptions } from './sources/rate-source.js';
export { SocketSource, type SocketSourceOptions } from './sources/socket-source.js';
export type { LineFormat, LineRecordOptions, RecordValidator } from './sources/line-format.js';
export type { BadRecord } from './sources/source.js';
export type { RunSummary, RunToCompletionOptions, StopOptions, StreamingContextOptions } from './context-options.js';
export type { BackpressureOptions } from './scheduler/backpressure.js';
export type { CatchUp } from './scheduler/job-generator.js';
export { StreamingContext } from './streaming-context.js';
export type { Duration, DurationLike, DurationLikeObject, Time } from './time.js';
export type { MultipleWatermarkPolicy } from './watermark-tracker.js';
export { FINAL_WATERMARK } from './watermark-tracker.js';
