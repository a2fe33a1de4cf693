/**
 * The checkpoint folder's internals, for the project's own tests, benchmarks and tools: not a
 * public entry point, reachable only from inside the package.
 */
export { checkpointerOf, levelCheckpointerOf } from './checkpoint-access.js';
export { LevelCheckpointer, type CheckpointMeta, type CommitEntry, type CommitOperation } from './level-checkpointer.js';
export { isLocked } from './checkpoint-errors.js';
export { compatibility } from './fingerprint.js';
