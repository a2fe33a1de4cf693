/**
 * `sluice/testing`: the test kit. Harnesses that run operators on a manual clock, and the
 * conformance suite for state stores; generators, laws and the other suites join as the test-kit
 * work lands.
 */
export { runBatches, runBatches2, type RunBatchesOptions } from './run-batches.js';
export { assertSameValue } from './same-value.js';
export { stateStoreSuite, type StateStoreFixture, type StateStoreSuiteOptions } from './state-store-suite.js';
export { TestStream, type CrashPoint, type OutputBatch, type PendingTimer, type TestStreamOptions } from './test-stream.js';
