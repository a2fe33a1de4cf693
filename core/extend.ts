/**
 * The core's part of `sluice/extend`: what authors of operators, sources, sinks, state stores and
 * checkpoints build on (the `DStream` subclasses and the batch context, the source, sink, commit,
 * state and checkpoint contracts). `state/extend.ts` re-exports it with the state codecs.
 */
export type { BatchContext, InputRead, ObservedEventTimes } from './batch-context.js';
export type { CheckpointSettings, CheckpointStorage, Checkpointer, CommitRecord, GraphFingerprint, Recovery, StatefulOperatorFingerprint } from './checkpoint-port.js';
export type { CheckpointIdentity, CommitParticipant, PendingCommit } from './commit/commit-participant.js';
export { checkOnError, definition, ErrorPolicy, RecordErrors, type Definition } from './error-policy.js';
export type { DStreamGraph } from './graph.js';
export { hashKey, keyEquals, KeyMap } from './key.js';
export type { Combiner } from './keyed/shuffle.js';
export { userFunctionFailed } from './operator-error.js';
export { DerivedDStream, type DeriveBatch } from './operators/derived.js';
export { chainStages, fusableChain, NarrowDStream, runStages, type Emit, type FusedChain, type NarrowOptions, type Stage } from './operators/narrow.js';
export { keepLastResults, type ComputedBatches, type LastResult, type LastResults, type LastResultsView, type ResultShape } from './output/last-results.js';
export { OutputOperation, type OutputWriter } from './output/output-operation.js';
export type { BatchPlan, SourceRange } from './scheduler/batch-plan.js';
export { InlineExecutor, type Executor, type StageContext, type Task, type TaskContext, type TaskStep, type TaskWire } from './scheduler/executor.js';
export { defineTaskStep } from './scheduler/task-step.js';
export { SerializingExecutor } from './parallel/serializing-executor.js';
export { serviceKey, type LifecycleHook, type ServiceKey, type Services } from './services.js';
export { lineParser, parseLines } from './sources/line-format.js';
export { ReceivedLines } from './sources/received-lines.js';
export { offsetEquals, type Offset, type Source, type SourceEnvironment, type SourceRead, type WriteAheadLog } from './sources/source.js';
export type { KeyRange, StateBackend, StateConfigValue, StateDescriptor, StateStore, StoreKey, StoreStats } from './state-port.js';
export { parseDuration, parsePositiveDuration, time } from './time.js';
export { combineWatermarks, type PlannedWatermark, type WatermarkPolicy, type WatermarkSnapshot, type WatermarkTracker } from './watermark-tracker.js';
export { serveTasks, transferable, TransferableResult, type TaskHandler, type TaskMeta, type WorkerInfo } from './parallel/pool-worker.js';
export { WorkerPool, type PoolTask, type SpeculationOptions, type StageFigures, type WorkerPoolOptions } from './parallel/worker-pool.js';
