import type { Cancel, Clock } from '../clock/clock.js';
import type { Time } from '../time.js';
import { time } from '../time.js';

/** Runs one batch; resolves `false` when `onlyWithData` is set and there was nothing to run. */
export type RunBatch = (batchId: number, batchTime: Time, onlyWithData: boolean) => Promise<boolean>;

/**
 * Cuts the stream into batches: batch `k` is due at `zeroTime + (k + 1) * interval`. Batches run
 * one at a time and in order; a batch that runs long delays the next (it then starts at once),
 * and no batch is ever skipped.
 */
export class JobGenerator {
  readonly #clock: Clock;
  readonly #interval: number;
  readonly #zeroTime: number;
  readonly #runBatch: RunBatch;
  #next = 0;
  #cancel: Cancel | undefined;
  #running: Promise<void> | undefined;
  #stopped = false;

  constructor(options: { clock: Clock; interval: number; zeroTime: number; runBatch: RunBatch }) {
    this.#clock = options.clock;
    this.#interval = options.interval;
    this.#zeroTime = options.zeroTime;
    this.#runBatch = options.runBatch;
  }

  /** The batch time of batch `batchId`. */
  batchTime(batchId: number): Time {
    return time(this.#zeroTime + (batchId + 1) * this.#interval);
  }

  /** The next batch to plan is `batchId` (after recovered batches); schedules nothing. */
  skipTo(batchId: number): void {
    this.#next = batchId;
  }

  /** Schedules the next batch (0, or the one after the last recovered batch). */
  start(): void {
    this.#scheduleNext();
  }

  /**
   * Stops generating batches and waits for the running one. With `drain`, then runs batches back
   * to back, each at the next batch time, until no source has data left.
   */
  async stop(drain: boolean): Promise<void> {
    this.#stopped = true;
    this.#cancel?.();
    this.#cancel = undefined;
    await this.#running;
    if (!drain) return;
    for (;;) {
      const batchId = this.#next;
      if (!(await this.#runBatch(batchId, this.batchTime(batchId), true))) return;
      this.#next = batchId + 1;
    }
  }

  /** Stops without waiting (after a failure, from inside a batch). */
  halt(): void {
    this.#stopped = true;
    this.#cancel?.();
    this.#cancel = undefined;
  }

  #scheduleNext(): void {
    const batchId = this.#next;
    this.#cancel = this.#clock.schedule(this.batchTime(batchId), () => {
      if (this.#stopped) return undefined;
      this.#cancel = undefined;
      this.#next = batchId + 1;
      const running = this.#runBatch(batchId, this.batchTime(batchId), false).then(() => {
        this.#running = undefined;
        if (!this.#stopped) this.#scheduleNext();
      });
      this.#running = running;
      return running;
    });
  }
}
