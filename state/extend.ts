/**
 * `sluice/extend`: the API for authors of operators, sources, sinks, state stores and checkpoints
 * (the application API is `sluice`, `sluice/state`, `sluice/windows` and `sluice/checkpoint`).
 * This entry lives in `state/`, the lowest folder that sees both the core's extension API (which
 * it re-exports) and the state's: the `StatefulDStream` base, the store implementations and the
 * order-preserving key, time and value codecs that stores and their operators share.
 */
export * from '../core/extend.js';
export { bytesToStoreKey, decodeKey, encodeKey, encodeKeyPrefix, storeKeyToBytes } from './key-codec.js';
export { LevelStateStore } from './level-state-store.js';
export { MemoryStateStore } from './memory-state-store.js';
export { after as encodedTimeAfter, decodeTime, encodeTime } from './state-layout.js';
export { StatefulDStream } from './stateful-dstream.js';
export { checkStateValue, decodeValue, encodeValue } from './value-codec.js';
