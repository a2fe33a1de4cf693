/** A cancel handle for something scheduled on a {@link Clock}. */
export type Cancel = () => void;

/**
 * The only place Sluice reads wall time or sets timers. Everything else receives time as data,
 * so tests drive time with a {@link ManualClock}.
 */
export interface Clock {
  /** The current time in ms since the epoch. */
  now(): number;
  /**
   * Runs `task` once the clock reaches `at` (at once if it already has). The clock waits for the
   * promise the task returns before it considers the task done.
   */
  schedule(at: number, task: () => Promise<void> | void): Cancel;
}
