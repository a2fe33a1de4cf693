import type { Cancel, Clock } from './clock.js';

/** The wall clock: `Date.now()` and `setTimeout`. */
export class SystemClock implements Clock {
  now(): number {
    return Date.now();
  }

  schedule(at: number, task: () => Promise<void> | void): Cancel {
    const timer = setTimeout(() => void runQuietly(task), Math.max(0, at - Date.now()));
    return () => {
      clearTimeout(timer);
    };
  }
}

/** Tasks report their own failures; a rejection here must not become an unhandled one. */
async function runQuietly(task: () => Promise<void> | void): Promise<void> {
  try {
    await task();
  } catch {
    // already reported by the task
  }
}
