import type { Cancel, Clock } from '../clock/clock.js';
import type { Time } from '../time.js';
import { time } from '../time.js';

/**
 * What a batch run is asked to do: `'always'` run (a scheduled batch with no-data batches on),
 * `'withData'` run only if a source has records (a drain, a bounded run, a scheduled batch with
 * `noDataBatches: false`), `'final'` run the final batch (no records, the final watermark).
 */
export type BatchKind = 'always' | 'withData' | 'final';

/** How a batch run ended: committed, not run for want of data, or failed (the context stops). */
export type BatchOutcome = 'completed' | 'noData' | 'failed';

/** Runs one batch. */
export type RunBatch = (batchId: number, batchTime: Time, kind: BatchKind) => Promise<BatchOutcome>;

/** Options of a {@link JobGenerator}. */
export interface JobGeneratorOptions {
  readonly clock: Clock;
  readonly interval: number;
  readonly zeroTime: number;
  readonly runBatch: RunBatch;
  /** Whether a scheduled batch runs when no source has records (default true). */
  readonly noDataBatches?: boolean;
  /** What happens to batch times the job missed (default `'every-batch'`; see `StreamingContextOptions.catchUp`). */
  readonly catchUp?: CatchUp;
  /**
   * With the pipelined commit: whether a batch that ran left its commit in flight, and a promise
   * that resolves once no commit is. A scheduled run then starts the next batch at once when its
   * time has come (overlapping the commit), and ends only when the commits are complete.
   */
  readonly commits?: { readonly inFlight: () => boolean; readonly settled: () => Promise<void> };
}

/**
 * How a job that fell behind the clock (it was down, or a batch ran long) catches up:
 * `'every-batch'` runs every missed batch time, one by one; `'one-batch'` runs one batch at the
 * latest batch time that has come, which takes everything available (within each source's limit).
 */
export type CatchUp = 'every-batch' | 'one-batch';

/**
 * Cuts the stream into batches on the grid `zeroTime + n * interval`. Batch ids count the batches
 * that ran, with no gap; a batch's time is the grid time it ran at: batch `k` at `zeroTime + (k +
 * 1) * interval`, unless intervals without input were skipped (`noDataBatches: false`), which take
 * no batch id. Batches run one at a time and in order; a batch that runs long delays the next (it
 * then starts at once), and no interval is ever skipped while it has data, unless `catchUp` is
 * `'one-batch'`: then the batch times that went by while the job was behind take no batch, and the
 * next batch runs at the latest grid time that has come.
 */
export class JobGenerator {
  readonly #clock: Clock;
  readonly #interval: number;
  readonly #runBatch: RunBatch;
  readonly #noDataBatches: boolean;
  readonly #catchUp: CatchUp;
  readonly #commits: JobGeneratorOptions['commits'];
  #next = 0;
  #nextTime: number;
  #cancel: Cancel | undefined;
  #running: Promise<void> | undefined;
  #stopped = false;
  #interrupted = false;

  constructor(options: JobGeneratorOptions) {
    this.#clock = options.clock;
    this.#interval = options.interval;
    this.#runBatch = options.runBatch;
    this.#noDataBatches = options.noDataBatches ?? true;
    this.#catchUp = options.catchUp ?? 'every-batch';
    this.#commits = options.commits;
    this.#nextTime = options.zeroTime + options.interval;
  }

  /** The id and time of the next batch to plan. */
  get next(): { readonly batchId: number; readonly batchTime: Time } {
    return { batchId: this.#next, batchTime: time(this.#nextTime) };
  }

  /** The next batch to plan follows batch `batchId` at `batchTime` (a recovered or replayed one); schedules nothing. */
  resumeAfter(batchId: number, batchTime: number): void {
    this.#next = batchId + 1;
    this.#nextTime = batchTime + this.#interval;
  }

  /** Schedules the next batch (0, or the one after the last recovered batch). */
  start(): void {
    this.#scheduleNext();
  }

  /**
   * Stops generating batches and waits for the running one. With `drain`, then runs batches back
   * to back, each at the next batch time, until no source has data left (or {@link interrupt});
   * with `final` too, then runs the final batch.
   *
   * @returns how the last batch run ended (`'noData'` when none ran).
   */
  async stop(drain: boolean, final = false): Promise<BatchOutcome> {
    this.halt();
    await this.#running;
    if (!drain) return 'noData';
    for (;;) {
      if (this.#interrupted) return 'noData';
      const outcome = await this.#run('withData');
      if (outcome === 'failed') return outcome;
      if (outcome === 'noData') break;
    }
    return final && !this.#interrupted ? this.#run('final') : 'noData';
  }

  /** Stops without waiting (after a failure, from inside a batch). */
  halt(): void {
    this.#stopped = true;
    this.#cancel?.();
    this.#cancel = undefined;
  }

  /** Ends a drain after the batch it runs (a stop requested during a bounded run). */
  interrupt(): void {
    this.#interrupted = true;
    this.halt();
  }

  /** Runs the next batch now; the next id and time move on only when it completed. */
  async #run(kind: BatchKind): Promise<BatchOutcome> {
    const batchId = this.#next;
    const batchTime = this.#nextTime;
    const outcome = await this.#runBatch(batchId, time(batchTime), kind);
    if (outcome === 'completed') this.resumeAfter(batchId, batchTime);
    return outcome;
  }

  #scheduleNext(): void {
    this.#catchUpNow();
    this.#cancel = this.#clock.schedule(time(this.#nextTime), () => {
      if (this.#stopped) return undefined;
      this.#cancel = undefined;
      const running: Promise<void> = this.#runDue().finally(() => {
        if (this.#running === running) this.#running = undefined;
      });
      this.#running = running;
      return running;
    });
  }

  /** With `catchUp: 'one-batch'`, missed batch times collapse into the latest that has come (on the same grid). */
  #catchUpNow(): void {
    if (this.#catchUp !== 'one-batch') return;
    const missed = Math.floor((this.#clock.now() - this.#nextTime) / this.#interval);
    if (missed >= 1) this.#nextTime += missed * this.#interval;
  }

  /**
   * Runs the batch whose time has come, then schedules the next. With a batch's commit left in
   * flight (the pipelined commit), a next batch whose time has come too runs at once, on top of
   * it; the run ends once the commits are complete, so that a clock that waits for its tasks (a
   * `ManualClock`'s `advance`) sees every batch due complete.
   */
  async #runDue(): Promise<void> {
    for (;;) {
      const outcome = await this.#run(this.#noDataBatches ? 'always' : 'withData');
      // An interval without input takes no batch id: the next interval is tried.
      if (outcome === 'noData') this.#nextTime += this.#interval;
      if (this.#stopped) break;
      if (this.#commits?.inFlight() === true) {
        this.#catchUpNow();
        if (this.#clock.now() >= this.#nextTime) continue;
      }
      this.#scheduleNext();
      break;
    }
    await this.#commits?.settled();
  }
}
