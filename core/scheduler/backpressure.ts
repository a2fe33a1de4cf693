import type { SourceProgress } from '../events.js';
import type { InputDStream } from '../sources/input-dstream.js';
import { DEFAULT_PID_GAINS, PidRateEstimator, type PidGains } from './rate-estimator.js';

/**
 * Backpressure (Spark's `spark.streaming.backpressure.*`): after each batch a PID controller per
 * source estimates the rate the job sustains, and the next batch takes at most that rate times
 * the batch interval from the source. See docs/batches-and-time.md, "Backpressure".
 */
export interface BackpressureOptions {
  /**
   * Records per second each source may give the first batch, before any estimate (default: no
   * bound but the source's own `maxRecordsPerBatch`; Spark's `initialRate`).
   */
  readonly initialRate?: number;
  /** The rate never goes below this many records per second (default 100; Spark's `pid.minRate`). */
  readonly minRate?: number;
  /** The controller's gains (Spark's defaults: proportional 1, integral 0.2, derivative 0). */
  readonly proportional?: number;
  readonly integral?: number;
  readonly derivative?: number;
}

/** Checked backpressure settings. */
export interface BackpressureSettings extends PidGains {
  readonly initialRate: number;
}

/**
 * The settings of the context's `backpressure` option (`undefined`: off).
 *
 * @throws TypeError for a value that is neither a boolean nor an options object; RangeError for
 * a rate or gain that is not a finite number of at least 0 (rates: above 0).
 */
export function backpressureOf(option: boolean | BackpressureOptions | undefined): BackpressureSettings | undefined {
  if (option === undefined || option === false) return undefined;
  if (option !== true && (typeof option !== 'object' || option === null)) {
    throw new TypeError(`StreamingContext: backpressure must be true, false or an options object such as { minRate: 100 }, got ${JSON.stringify(option)}.`);
  }
  const o: BackpressureOptions = option === true ? {} : option;
  const number = (name: keyof BackpressureOptions, fallback: number, positive: boolean): number => {
    const value = o[name] ?? fallback;
    if (typeof value !== 'number' || Number.isNaN(value) || value < 0 || (positive && value === 0) || (value === Number.POSITIVE_INFINITY && name !== 'initialRate')) {
      throw new RangeError(`StreamingContext: backpressure.${name} must be a ${positive ? 'positive' : 'non-negative'} number, got ${String(value)}.`);
    }
    return value;
  };
  return {
    initialRate: number('initialRate', Number.POSITIVE_INFINITY, true),
    minRate: number('minRate', DEFAULT_PID_GAINS.minRate, true),
    proportional: number('proportional', DEFAULT_PID_GAINS.proportional, false),
    integral: number('integral', DEFAULT_PID_GAINS.integral, false),
    derivative: number('derivative', DEFAULT_PID_GAINS.derivative, false),
  };
}

/** The settings of `backpressure: true`. */
const DEFAULT_SETTINGS: BackpressureSettings = { initialRate: Number.POSITIVE_INFINITY, ...DEFAULT_PID_GAINS };

/** One source's controller, and the record limit it sets on the next batch. */
interface SourceRate {
  readonly estimator: PidRateEstimator;
  /** Records per second (infinite until the first estimate without an `initialRate`). */
  rate: number;
}

/**
 * The rate controllers of the sources that backpressure applies to: the record limit each sets
 * on the next batch, and the estimates each completed batch updates.
 */
export class SourceRates {
  readonly #interval: number;
  readonly #rates: (SourceRate | undefined)[];

  /**
   * @param inputs - the context's inputs, in registration order.
   * @param settings - the context's backpressure (each input's own `backpressure` option overrides it).
   */
  constructor(inputs: readonly InputDStream<unknown>[], settings: BackpressureSettings | undefined, batchIntervalMs: number) {
    this.#interval = batchIntervalMs;
    this.#rates = inputs.map((input) => {
      const on = input.backpressure ?? settings !== undefined;
      if (!on) return undefined;
      const s = settings ?? DEFAULT_SETTINGS;
      return { estimator: new PidRateEstimator(batchIntervalMs, s), rate: s.initialRate };
    });
  }

  /** The most records input `i` may give the next batch: its rate over one batch interval (at least 1). */
  limitOf(i: number): number {
    const rate = this.#rates[i]?.rate ?? Number.POSITIVE_INFINITY;
    return rate === Number.POSITIVE_INFINITY ? rate : Math.max(1, Math.floor((rate * this.#interval) / 1000));
  }

  /**
   * Updates each source's estimate from a completed batch, and returns its source figures with
   * the rate each estimates now (`estimatedRate`, records per second).
   */
  update(sources: readonly SourceProgress[], completedAt: number, processingMs: number, schedulingDelayMs: number): SourceProgress[] {
    return sources.map((source, i) => {
      const entry = this.#rates[i];
      if (entry === undefined) return source;
      const rate = entry.estimator.compute(completedAt, source.inputRecords, processingMs, schedulingDelayMs);
      if (rate !== undefined) entry.rate = rate;
      return entry.rate === Number.POSITIVE_INFINITY ? source : { ...source, estimatedRate: entry.rate };
    });
  }
}
