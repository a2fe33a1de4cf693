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
  /** The time of record 0 (default: the clock when the source starts). */
  readonly startTime?: number;
}

/**
 * A deterministic generator: by clock time `t` it has produced `(t - startTime) * rowsPerSecond /
 * 1000` records, record `i` made by `generate(i, timestamp)`. Replayable: the same offsets always
 * give the same records.
 *
 * Offsets are `0` before the first record and `{ rows, startTime }` after: the start time is in
 * every offset, and so in every logged batch plan, so a restarted job generates the same records
 * (and goes on from the same start time) without an explicit `startTime`. When an offset's start
 * time differs from the `startTime` option (the option was changed before a restart), the
 * offset's wins and a warning says so.
 *
 * **Memory.** Nothing is buffered: a batch's records are generated when the batch reads them.
 * One batch holds every record due since the previous one (all of them since `startTime` for
 * the first batch), so set `maxRecordsPerBatch` when `startTime` lies far in the past.
 */
export class RateSource<T = RateRecord> implements Source<T> {
  readonly kind = 'rate';
  readonly replayable = true;
  readonly #rowsPerSecond: number;
  readonly #generate: (index: number, timestamp: number) => T;
  readonly #totalRows: number;
  readonly #explicit: number | undefined;
  #startTime: number | undefined;
  /** Whether the start time came from an offset (then a different one is a damaged plan). */
  #recorded = false;
  #clock: Clock | undefined;
  #frozenAt: number | undefined;
  #logger: SourceEnvironment['logger'] | undefined;

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
  }

  /** Takes the clock, and the start time from it unless the option gave one (or an offset does later). */
  start(env: SourceEnvironment): void {
    this.#clock = env.clock;
    this.#logger = env.logger;
    this.#startTime ??= env.clock.now();
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
    const elapsed = Math.max(0, now - startTime);
    const produced = Math.min(this.#totalRows, Math.floor((elapsed * this.#rowsPerSecond) / 1000));
    const end = Math.max(start, Math.min(produced, start + maxRecords));
    return end === start ? startOffset : { rows: end, startTime };
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
