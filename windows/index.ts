/**
 * `sluice/windows`: batch-time and event-time windows. Empty until the windows work lands
 * (see the CHANGELOG); the entry point exists so the package's subpath exports are stable.
 */
export {};
export * from './event-time/index.js';
