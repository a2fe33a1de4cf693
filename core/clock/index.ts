export type { Cancel, Clock } from './clock.js';
export { ManualClock } from './manual-clock.js';
export { SystemClock } from './system-clock.js';
