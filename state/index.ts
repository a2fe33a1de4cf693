/**
 * `sluice/state`: keyed state operators (`updateStateByKey`, `mapWithState` with timeouts, timers
 * and TTL), queryable state, the versioned `StateStore` contract with its memory and LevelDB
 * implementations, and the key and value codecs.
 */
export { bytesToStoreKey, decodeKey, encodeKey, encodeKeyPrefix, storeKeyToBytes } from './key-codec.js';
export { DEFAULT_STATE_CACHE_SIZE, inCheckpoint, LevelStateBackend, type LevelStateBackendOptions } from './level-state-backend.js';
export { LevelStateStore, StateValueDecodeError, type StateBatchOperation, type StoreMeta } from './level-state-store.js';
export { mapWithState, MapWithStateDStream, StateSnapshotDStream } from './map-with-state.js';
export { MemoryStateBackend, MemoryStateStore } from './memory-state-store.js';
export { queryableState, type QueryableState } from './queryable-state.js';
export type { State, StateEntry } from './state-handle.js';
export { after as encodedTimeAfter, decodeTime, encodeTime, type TimeDomain } from './state-layout.js';
export { StateSpec, stateSpec, type MappingFunction, type StateSpecSettings, type StateTtl, type TimerFunction } from './state-spec.js';
export type { KeyRange, StateBackend, StateStore, StoreKey, StoreStats } from './state-store.js';
export { StatefulDStream } from './stateful-dstream.js';
export { updateStateByKey, type UpdateContext, type UpdateFunction, type UpdateStateOptions } from './update-state-by-key.js';
export { checkStateValue, decodeValue, encodeValue, registerValueType, type ValueType } from './value-codec.js';
