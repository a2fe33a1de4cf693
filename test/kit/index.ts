/**
 * `sluice/testing`: the test kit. Harnesses that run operators on a manual clock (`runBatches`,
 * `TestStream`), fast-check generators and laws (each takes the user's fast-check
 * module), conformance suites for state stores, sources and sinks (`{ test, factory }`, no
 * test runner imported), and `seededRandom` for reproducible data.
 */
export { runBatches, type InputStreams, type NamedInputs, type RunBatchesOptions } from './run-batches.js';
export { assertSameValue } from './same-value.js';
export { seededRandom } from './seeded-random.js';
export { stateStoreSuite, type StateStoreFixture, type StateStoreSuiteOptions } from './state-store-suite.js';
export { TestStream, type OutputBatch, type PendingTimer, type TestStreamCrashStep, type TestStreamOptions } from './test-stream.js';
export {
  batchCuts,
  batched,
  crashPoints,
  CRASH_STEPS,
  cutIntoBatches,
  keyedEvents,
  type Crash,
  type CrashStep,
  type FastCheckModule,
  type KeyedEvent,
  type KeyedEventsOptions,
} from './generators.js';
export { batchingInvariance, incrementalEqualsRecomputed, inverseLaw, replayDeterminism, type IncrementalWindowOptions, type InverseLawOptions, type StreamLawOptions } from './laws.js';
export type { Compare, LawRunOptions } from './law-support.js';
export { lateDataAccounting, watermarkMonotonicity, type Arrival, type LateDataLawOptions, type WatermarkLawOptions, type WindowOperator } from './event-time-laws.js';
export { committedState } from './committed-state.js';
export { faultyCheckpoint, type CheckpointFaults } from './faulty-checkpoint.js';
export { exactlyOnceUnderCrash, type CrashLawOutput, type CrashScenario, type ExactlyOnceOptions } from './crash-law.js';
export { sourceSuite, type SourceFixture, type SourceSuiteOptions } from './source-suite.js';
export { MemoryWriteAheadLog } from './memory-write-ahead-log.js';
export { sinkSuite, type SinkFixture, type SinkSuiteOptions } from './sink-suite.js';
