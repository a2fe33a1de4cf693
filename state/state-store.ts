/*
 * The state port is declared in the core (so a context can be given a backend); state/ implements
 * it. Re-exported here so the folder's files import it from one place.
 */
export type { KeyRange, StateBackend, StateStore, StoreKey, StoreStats } from '../core/extend.js';
