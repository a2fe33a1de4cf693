import type { Clock } from '../clock/clock.js';
import type { Offset, Source, SourceEnvironment, SourceRead } from './source.js';
import { SluiceError } from '../errors.js';

/** The default record of a {@link RateSource}. */
export interface RateRecord {
  /** The record's index, from 0. */
  readonly value: number;
  /** Its generated time in ms: `startTime + floor(value * 1000 / rowsPerSecond)`. */
  readonly timestamp: number;
}

/** Options of {@link RateSource}. */
export interface RateSourceOptions<T> {
  /** Records generated per second of clock time. */
  readonly rowsPerSecond: number;
  /** Makes record `index` (default `{ value, timestamp }`); must be deterministic. */
  readonly generate?: (index: number, timestamp: number) => T;
  /** Stop after this many records (default: never). */
  readonly totalRows?: number;
  /** The time of record 0, from which record timestamps count (default: the clock when the source starts). */
  readonly startTime?: number;
  /**
   * Makes the records whose timestamps lie in the past exist at once (default false): by clock
   * time `t` every record timed up to `t` exists, all of them since a past `startTime` in the
   * first batch (bound it with `maxRecordsPerBatch`), and after a restart every record timed
   * during the downtime. For replaying history and for tests that want a known backlog; without
   * it, production follows `rowsPerSecond` from when the source starts.
   */
  readonly backfill?: boolean;
}

/**
 * A deterministic generator, Spark's rate source: `rowsPerSecond` records per second of clock
 * time from when the source starts (in this process: a restarted job goes on at the rate from
 * where its offsets stand, without a burst for the downtime nor a pause), record `i` made by
 * `generate(i, timestamp)` with `timestamp = startTime + floor(i * 1000 / rowsPerSecond)`. A
 * `startTime` in the past times the records from then on but does not make them exist earlier
 * (unless `backfill`); one in the future delays production until it. Replayable: the same
 * offsets always give the same records.
 *
 * Offsets are `0` before the first record and `{ rows, startTime }` after: the start time is in
 * every offset, and so in every logged batch plan, so a restarted job generates the same records
 * (and goes on from the same start time) without an explicit `startTime`. When an offset's start
 * time differs from the `startTime` option (the option was changed before a restart), the
 * offset's wins and a warning says so.
 *
 * **Memory.** Nothing is buffered: a batch's records are generated when the batch reads them, at
 * most those due since the previous batch (or `maxRecordsPerBatch`); with `backfill`, the first
 * batch holds every record timed since `startTime`, so bound it with `maxRecordsPerBatch`.
 */
export class RateSource<T = RateRecord> implements Source<T> {
  readonly kind = 'rate';
  readonly replayable = true;
  readonly #rowsPerSecond: number;
  readonly #generate: (index: number, timestamp: number) => T;
  readonly #totalRows: number;
  readonly #explicit: number | undefined;
  readonly #backfill: boolean;
  #startTime: number | undefined;
  /** The clock when the source started in this process: production at the rate counts from here (or from the start time, if later). */
  #startedAt: number | undefined;
  /** The rows where the offsets stood when this process first asked for records: production counts on from them. */
  #resumedAt: number | undefined;
  /** Whether the start time came from an offset (then a different one is a damaged plan). */
  #recorded = false;
  #clock: Clock | undefined;
  #frozenAt: number | undefined;
  #logger: SourceEnvironment['logger'] | undefined;
  #name = 'rate';
  #bounded = false;

  constructor(options: RateSourceOptions<T>) {
    if (!(options.rowsPerSecond > 0) || !Number.isFinite(options.rowsPerSecond)) {
      throw new RangeError(`rateStream: rowsPerSecond must be a positive number, got ${options.rowsPerSecond}.`);
    }
    if (options.totalRows !== undefined && !(Number.isInteger(options.totalRows) && options.totalRows >= 0)) {
      throw new RangeError(`rateStream: totalRows must be a non-negative integer, got ${options.totalRows}.`);
    }
    this.#rowsPerSecond = options.rowsPerSecond;
    this.#generate = options.generate ?? ((value, timestamp) => ({ value, timestamp }) as T);
    this.#totalRows = options.totalRows ?? Number.POSITIVE_INFINITY;
    this.#startTime = options.startTime;
    this.#explicit = options.startTime;
    this.#backfill = options.backfill ?? false;
  }

  /** Takes the clock, and the start time from it unless the option gave one (or an offset does later). */
  start(env: SourceEnvironment): void {
    this.#clock = env.clock;
    this.#logger = env.logger;
    this.#name = env.name;
    this.#startedAt = env.clock.now();
    this.#startTime ??= this.#startedAt;
  }

  /** `0`: no record yet. */
  initialOffset(): Offset {
    return 0;
  }

  /** The offset after the records produced by now, at most `maxRecords` past `start`. */
  latestOffset(startOffset: Offset, maxRecords: number): Offset {
    const start = this.#rowsOf(startOffset);
    const now = this.#frozenAt ?? this.#clock?.now() ?? 0;
    const startTime = this.#startTime ?? 0;
    const produced = this.#bounded ? this.#totalRows : Math.min(this.#totalRows, this.#producedBy(now, start, startTime));
    const end = Math.max(start, Math.min(produced, start + maxRecords));
    return end === start ? startOffset : { rows: end, startTime };
  }

  /**
   * The records that exist by clock time `now`: with `backfill`, those timed up to `now`; else the
   * rows the offsets stood at when this process first asked (`start` then), plus the rate since
   * the source started here or since the start time, whichever is later.
   */
  #producedBy(now: number, start: number, startTime: number): number {
    if (this.#backfill) return Math.floor((Math.max(0, now - startTime) * this.#rowsPerSecond) / 1000);
    this.#resumedAt ??= start;
    const from = Math.max(startTime, this.#startedAt ?? startTime);
    return this.#resumedAt + Math.floor((Math.max(0, now - from) * this.#rowsPerSecond) / 1000);
  }

  /**
   * A bounded run takes all `totalRows` records at once (still timed from the start time), cut
   * into batches by the run's records limit.
   *
   * @throws TypeError without `totalRows`: the source would never end.
   */
  prepareForBoundedRun(): void {
    if (this.#totalRows === Number.POSITIVE_INFINITY) {
      throw new TypeError(`Source ${this.#name} (rate) has no totalRows, so it never ends and a bounded run (runToCompletion) would not either; set totalRows, or start() the context to run it streaming.`);
    }
    this.#bounded = true;
  }

  /** Graceful stop: produce nothing past the current time, so a drain ends. */
  stopReceiving(): void {
    this.#frozenAt ??= this.#clock?.now() ?? 0;
  }

  /** Records `start.rows` to `end.rows - 1`, timed from the start time the offsets record. */
  read(start: Offset, end: Offset): SourceRead<T> {
    const from = this.#rowsOf(start);
    const to = this.#rowsOf(end);
    const records = new Array<T>(to - from);
    const startTime = this.#startTime ?? 0;
    for (let i = from; i < to; i++) records[i - from] = this.#generate(i, startTime + Math.floor((i * 1000) / this.#rowsPerSecond));
    return { records };
  }

  /**
   * The rows of an offset, adopting the start time it records.
   *
   * @throws TypeError when the offset is not one of this source's; SluiceError `CHECKPOINT_CORRUPT`
   * when two offsets record different start times.
   */
  #rowsOf(offset: Offset): number {
    if (offset === 0) return 0;
    const { rows, startTime } = (typeof offset === 'object' && offset !== null && !Array.isArray(offset) ? offset : {}) as Partial<Record<string, Offset>>;
    if (typeof rows !== 'number' || !Number.isInteger(rows) || rows < 0 || typeof startTime !== 'number' || !Number.isFinite(startTime)) {
      throw new TypeError(`rate source: offset ${JSON.stringify(offset)} is not one of this source's (0, or { rows, startTime }).`);
    }
    if (startTime !== this.#startTime) this.#adopt(startTime);
    return rows;
  }

  #adopt(startTime: number): void {
    if (this.#recorded) {
      throw new SluiceError('CHECKPOINT_CORRUPT', `rate source: the logged offsets disagree on the start time (${this.#startTime} and ${startTime}); the checkpoint's plans are damaged. Restore it from a copy, or start a new checkpoint directory.`);
    }
    if (this.#explicit !== undefined && this.#explicit !== startTime) {
      this.#logger?.warn({ startTime, option: this.#explicit }, 'the checkpoint records another start time than the startTime option; the recorded one is kept, so replayed and later records match the earlier run');
    }
    this.#startTime = startTime;
    this.#recorded = true;
  }
}
