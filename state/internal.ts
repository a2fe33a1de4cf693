/**
 * The state folder's internals that the package's other folders (windows, checkpoint) use: not a
 * public entry point, reachable only from inside the package.
 */
export { dropStoreOperations } from './level-layout.js';
export { inCheckpoint } from './level-state-backend.js';
export { StateValueDecodeError, type StateBatchOperation, type StoreMeta } from './level-state-store.js';
export type { StateEntry } from './state-handle.js';
export { checkVersioning, migrateValue, type StateVersioning } from './state-version.js';
export { rowsOf } from './level-layout.js';
