/**
 * `sluice/testing`: the test kit. Harnesses that run operators on a manual clock; generators,
 * laws and conformance suites join as the test-kit work lands.
 */
export { runBatches, runBatches2, type RunBatchesOptions } from './run-batches.js';
