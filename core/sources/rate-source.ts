import type { Clock } from '../clock/clock.js';
import type { Offset, Source, SourceEnvironment, SourceRead } from './source.js';
import { countOffset } from './record-buffer.js';

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
 */
export class RateSource<T = RateRecord> implements Source<T> {
  readonly kind = 'rate';
  readonly replayable = true;
  readonly #rowsPerSecond: number;
  readonly #generate: (index: number, timestamp: number) => T;
  readonly #totalRows: number;
  #startTime: number | undefined;
  #clock: Clock | undefined;
  #frozenAt: number | undefined;

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
  }

  start(env: SourceEnvironment): void {
    this.#clock = env.clock;
    this.#startTime ??= env.clock.now();
  }

  initialOffset(): Offset {
    return 0;
  }

  latestOffset(startOffset: Offset, maxRecords: number): Offset {
    const start = countOffset(startOffset, 'rate');
    const now = this.#frozenAt ?? this.#clock?.now() ?? 0;
    const elapsed = Math.max(0, now - (this.#startTime ?? 0));
    const produced = Math.min(this.#totalRows, Math.floor((elapsed * this.#rowsPerSecond) / 1000));
    return Math.max(start, Math.min(produced, start + maxRecords));
  }

  /** Graceful stop: produce nothing past the current time, so a drain ends. */
  stopReceiving(): void {
    this.#frozenAt ??= this.#clock?.now() ?? 0;
  }

  read(start: Offset, end: Offset): SourceRead<T> {
    const from = countOffset(start, 'rate');
    const to = countOffset(end, 'rate');
    const records = new Array<T>(to - from);
    const startTime = this.#startTime ?? 0;
    for (let i = from; i < to; i++) records[i - from] = this.#generate(i, startTime + Math.floor((i * 1000) / this.#rowsPerSecond));
    return { records };
  }
}
