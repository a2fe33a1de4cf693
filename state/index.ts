/**
 * `sluice/state`: keyed state for applications. The state operators (`updateStateByKey`,
 * `mapWithState` with timeouts, timers and TTL), queryable state, the memory and LevelDB state
 * backends, and the registry of custom state value types. The store contract, the codecs and the
 * `StatefulDStream` base are in `sluice/extend`.
 */
export { DEFAULT_STATE_CACHE_SIZE, defaultStateCacheBytes, LevelStateBackend, type LevelStateBackendOptions } from './level-state-backend.js';
export { mapWithState, MapWithStateDStream, type StateSnapshotDStream } from './map-with-state.js';
export { MemoryStateBackend } from './memory-state-store.js';
// eslint-disable-next-line @typescript-eslint/no-deprecated -- only its string form is deprecated
export { queryableState, type KeyedStateStream, type QueryableState } from './queryable-state.js';
export type { State } from './state-handle.js';
export type { TimeDomain } from './state-layout.js';
export { StateSpec, stateSpec, type MappingFunction, type StateSpecSettings, type StateTtl, type TimerFunction } from './state-spec.js';
export { updateStateByKey, type UpdateContext, type UpdateFunction, type UpdateStateOptions } from './update-state-by-key.js';
export type { MigrateFunction } from './state-version.js';
export { registerValueType, type ValueType } from './value-codec.js';
