import type { Cancel, Clock } from './clock.js';

/** The wall clock: `Date.now()` and `setTimeout`. */
export class SystemClock implements Clock {
  now(): number {
    return Date.now();
  }

  schedule(at: number, task: () => Promise<void> | void): Cancel {
    const timer = setTimeout(() => {
      void Promise.resolve().then(task).catch(() => undefined);
    }, Math.max(0, at - Date.now()));
    return () => clearTimeout(timer);
  }
}
