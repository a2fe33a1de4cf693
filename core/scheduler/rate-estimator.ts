/** The gains and bounds of a {@link PidRateEstimator}. */
export interface PidGains {
  /** How much of the gap between the last rate and the rate the batch sustained is corrected per batch (default 1). */
  readonly proportional: number;
  /** How much the backlog (scheduling delay, as records) pulls the rate down (default 0.2). */
  readonly integral: number;
  /** How much the change of the gap, per second, is damped (default 0). */
  readonly derivative: number;
  /** The rate never goes below this many records per second (default 100). */
  readonly minRate: number;
}

/** Spark's defaults for `spark.streaming.backpressure.pid.*`. */
export const DEFAULT_PID_GAINS: PidGains = { proportional: 1, integral: 0.2, derivative: 0, minRate: 100 };

/**
 * The rate a source may feed the job at, estimated after each batch by a PID controller, the
 * formula of Spark Streaming's `PIDRateEstimator`. With `r` the last rate (records/s), and for the
 * batch that just completed `p = records / processingTime` (the rate it sustained),
 * `error = r - p`, `backlog = schedulingDelay * p / batchInterval` (the records the scheduling
 * delay stands for, per second of interval) and `dError = (error - lastError) / secondsSinceLast`:
 *
 *     newRate = max(r - proportional * error - integral * backlog - derivative * dError, minRate)
 *
 * The first batch with records only sets `r = p` and gives no estimate. A batch without records
 * or without processing time gives none either (nothing was measured).
 */
export class PidRateEstimator {
  readonly #interval: number;
  readonly #gains: PidGains;
  #firstRun = true;
  #latestTime = Number.NEGATIVE_INFINITY;
  #latestRate = 0;
  #latestError = 0;

  /**
   * @param batchIntervalMs - the job's batch interval.
   * @param gains - the controller's gains and minimum rate.
   */
  constructor(batchIntervalMs: number, gains: PidGains = DEFAULT_PID_GAINS) {
    this.#interval = batchIntervalMs;
    this.#gains = gains;
  }

  /**
   * Takes one completed batch's figures and returns the new rate in records per second, or
   * `undefined` when the batch gives no estimate.
   *
   * @param timeMs - when the batch completed.
   * @param records - the records the source gave the batch.
   * @param processingMs - the batch's processing time.
   * @param schedulingDelayMs - the batch's scheduling delay.
   */
  compute(timeMs: number, records: number, processingMs: number, schedulingDelayMs: number): number | undefined {
    if (!(timeMs > this.#latestTime && records > 0 && processingMs > 0)) return undefined;
    const { proportional, integral, derivative, minRate } = this.#gains;
    const sinceLast = (timeMs - this.#latestTime) / 1000;
    const processingRate = (records / processingMs) * 1000;
    const error = this.#latestRate - processingRate;
    const backlog = (schedulingDelayMs * processingRate) / this.#interval;
    const dError = (error - this.#latestError) / sinceLast;
    const rate = Math.max(this.#latestRate - proportional * error - integral * backlog - derivative * dError, minRate);
    this.#latestTime = timeMs;
    if (this.#firstRun) {
      this.#latestRate = processingRate;
      this.#latestError = 0;
      this.#firstRun = false;
      return undefined;
    }
    this.#latestRate = rate;
    this.#latestError = error;
    return rate;
  }
}
