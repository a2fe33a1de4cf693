import type { CalendarWindows } from './calendar-windows.js';
import type { SessionWindows } from './session-windows.js';
import type { SlidingWindows } from './sliding-windows.js';
import type { TumblingWindows } from './tumbling-windows.js';

export { calendar, type CalendarUnit, type CalendarWindows } from './calendar-windows.js';
export { session, type SessionWindows } from './session-windows.js';
export { sliding, type SlidingWindows } from './sliding-windows.js';
export { tumbling, type TumblingWindows } from './tumbling-windows.js';

/**
 * How an event-time aggregation assigns records to windows, discriminated on `kind`: switch on
 * it exhaustively. Tumbling and calendar assigners give one window per record, sliding assigners
 * several (through panes), and session windows depend on the key's other records (see
 * `addToSessions`). Assigners are immutable values made by {@link tumbling}, {@link sliding},
 * {@link session} and {@link calendar}.
 */
export type WindowAssigner = TumblingWindows | SlidingWindows | SessionWindows | CalendarWindows;

/**
 * What an assigner decides about the windows an operator stores: recorded in a checkpoint, so that
 * a restart with other windows (another kind, size, slide, offset, gap, unit or zone), whose stored
 * accumulators would mean something else, is refused. A session gap given as a function of the key
 * is recorded as `'per-key'`.
 */
export function assignerConfig(assigner: WindowAssigner): Record<string, string | number | null> {
  switch (assigner.kind) {
    case 'tumbling':
      return { windows: 'tumbling', size: assigner.size, offset: assigner.offset };
    case 'sliding':
      return { windows: 'sliding', size: assigner.size, slide: assigner.slide, offset: assigner.offset };
    case 'session':
      return { windows: 'session', gap: assigner.gap ?? 'per-key' };
    case 'calendar':
      return { windows: 'calendar', unit: assigner.unit, zone: assigner.zone };
  }
}
