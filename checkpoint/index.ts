/**
 * `sluice/checkpoint`: LevelDB checkpoints and exactly-once recovery through lineage replay.
 * Importing it lets `new StreamingContext({ checkpoint: dir })` work.
 */
import { CHECKPOINTER, registerCheckpointerFactory } from 'sluice';
import { provideStateBackend } from 'sluice/state';
import { CHECKPOINT } from './checkpoint-service.js';
import { LevelCheckpointer } from './level-checkpointer.js';

registerCheckpointerFactory((graph, { directory, interval }) => {
  const checkpointer = new LevelCheckpointer(directory, interval);
  graph.services.provide(CHECKPOINTER, checkpointer);
  graph.services.provide(CHECKPOINT, checkpointer);
  provideStateBackend(graph, checkpointer.stateBackend);
  graph.services.onStart(() => checkpointer.open());
  graph.services.onStop(() => checkpointer.close());
});

export { checkpointerOf } from './checkpoint-access.js';
export { fileSink, type FileSinkOptions } from './file-sink.js';
export { getOrCreate, type GetOrCreateOptions } from './get-or-create.js';
export { formatInspection, inspectCheckpoint, type CheckpointInspection } from './inspect.js';
export { DEFAULT_STATE_CACHE_SIZE, LevelCheckpointer, type CheckpointMeta, type CommitEntry, type CommitOperation } from './level-checkpointer.js';
export { tableReader, tableSink, type TableReader, type TableSinkOptions } from './table-sink.js';
