/**
 * The core's internals that the package's other folders (state, windows, checkpoint) use: not a
 * public entry point (nothing in `package.json` exports it), reachable only from inside the package.
 */
export { messageOf } from './errors.js';
export { CARRIES_EVENT_TIME, eventTimeBreak } from './event-time-carrier.js';
export { encodeCompositeKey } from './key.js';
export { fingerprintDifference, fullFingerprintOf, type FullGraphFingerprint, type NodeFingerprint } from './job/full-fingerprint.js';
export { groupValues } from './keyed/group-by-key.js';
export { checkNumPartitions, partitionOf } from './keyed/partitioner.js';
export { KEY_GROUPS, keyGroupOf, keyGroupPartitionOf, keyGroupRange } from './keyed/key-groups.js';
export { combineByKeyBatch, keyedShuffle, type KeyedShuffle, type Partitioner } from './keyed/shuffle.js';
export { formatRecord } from './output/format-record.js';
export { fingerprintOf } from './scheduler/recovery.js';
export { handleStopSignals } from './stop-signals.js';
export { watermarkedAncestors } from './watermarked-ancestors.js';
export { createJobRun } from './parallel/run-job.js';
