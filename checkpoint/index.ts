/**
 * `sluice/checkpoint`: LevelDB checkpoints and exactly-once recovery through lineage replay.
 * Pass `levelCheckpoint(directory)` as a context's `checkpoint` option, or build the context with
 * `getOrCreate`; write results exactly once with `fileSink` and `tableSink`. Importing this module
 * changes nothing by itself.
 */
export { checkCompatibility, type CompatibilityReport } from './check-compatibility.js';
export { fileSink, type FileSinkOptions } from './file-sink.js';
export { getOrCreate, type GetOrCreateOptions } from './get-or-create.js';
export { inspectContext } from './inspect-context.js';
export { formatInspection, inspectCheckpoint, inspectionJson, type CheckpointInspection, type InspectOptions, type OperatorStateSize } from './inspect.js';
export { readCheckpointState, readCheckpointStates, readContextState, readContextStates, type OperatorStateView, type StateEntryView, type StateReadOptions } from './read-state.js';
export { parseKeyArgument, stateToJson } from './state-text.js';
export { levelCheckpoint, type LevelCheckpointOptions, type LevelCheckpointStorage } from './level-checkpoint.js';
export { MONITOR_DISCOVERY_FILE } from './monitor-discovery.js';
export { tableReader, tableSink, type TableReader, type TableSinkOptions } from './table-sink.js';
