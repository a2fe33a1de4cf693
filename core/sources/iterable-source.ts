import { messageOf } from '../errors.js';
import type { Offset, Source, SourceRead } from './source.js';
import { countOffset, RecordBuffer } from './record-buffer.js';

/** Options of {@link IterableSource}. */
export interface IterableSourceOptions {
  /** Records taken per batch when the input has no `maxRecordsPerBatch` (default 1000). */
  readonly batchSize?: number;
  /** For async iterables: records read ahead of the batches at most (default 10 000). */
  readonly highWaterMark?: number;
}

/**
 * Records from an iterable or an async iterable. A sync iterable is read at planning time, up to
 * the batch's limit; an async one is read ahead into a bounded buffer. Not replayable after a
 * restart (an iterator cannot be rewound).
 *
 * **Memory.** Records are held from when they are read until their batch commits. A sync
 * iterable is read only as far as the batch being planned needs (`maxRecordsPerBatch`, or
 * `batchSize`, default 1000), so one batch's records are held. An async iterable is read ahead
 * until `highWaterMark` records (default 10 000) wait for a commit; then the source stops
 * calling `next()` until a commit, so a fast producer waits instead of filling memory.
 */
export class IterableSource<T> implements Source<T> {
  readonly kind = 'iterable';
  readonly replayable = false;
  readonly #iterable: Iterable<T> | AsyncIterable<T>;
  readonly #batchSize: number;
  readonly #highWaterMark: number;
  readonly #buffer = new RecordBuffer<T>();
  #iterator: Iterator<T> | undefined;
  #asyncIterator: AsyncIterator<T> | undefined;
  #done = false;
  #committed = 0;
  #failure: Error | undefined;
  #resume: (() => void) | undefined;
  #bounded = false;
  /** Wakes a bounded run's `latestOffset` waiting for the read-ahead. */
  #arrived: (() => void) | undefined;

  constructor(iterable: Iterable<T> | AsyncIterable<T>, options: IterableSourceOptions = {}) {
    const isSync = typeof (iterable as Iterable<T>)[Symbol.iterator] === 'function';
    if (!isSync && typeof (iterable as AsyncIterable<T>)[Symbol.asyncIterator] !== 'function') {
      throw new TypeError('fromIterable: pass an iterable or an async iterable.');
    }
    this.#iterable = iterable;
    this.#batchSize = options.batchSize ?? 1000;
    this.#highWaterMark = options.highWaterMark ?? 10_000;
  }

  start(): void {
    if (Symbol.iterator in this.#iterable) {
      this.#iterator = this.#iterable[Symbol.iterator]();
    } else {
      this.#asyncIterator = this.#iterable[Symbol.asyncIterator]();
      void this.#readAhead(this.#asyncIterator);
    }
  }

  initialOffset(): Offset {
    return 0;
  }

  /**
   * A bounded run ends when the iterable does: from now on, `latestOffset` of an async iterable
   * waits for a record (or the end) rather than answer that nothing is there yet.
   */
  prepareForBoundedRun(): void {
    this.#bounded = true;
  }

  latestOffset(startOffset: Offset, maxRecords: number): Offset | Promise<Offset> {
    if (this.#bounded && this.#asyncIterator !== undefined && !this.#done && this.#buffer.end <= countOffset(startOffset, 'iterable')) {
      return this.#arrival().then(() => this.latestOffset(startOffset, maxRecords));
    }
    if (this.#failure !== undefined) throw this.#failure;
    const start = countOffset(startOffset, 'iterable');
    const limit = start + (Number.isFinite(maxRecords) ? maxRecords : this.#batchSize);
    const iterator = this.#iterator;
    while (iterator !== undefined && !this.#done && this.#buffer.end < limit) {
      const next = iterator.next();
      if (next.done === true) this.#done = true;
      else this.#buffer.push(next.value);
    }
    return Math.min(this.#buffer.end, limit);
  }

  read(start: Offset, end: Offset): SourceRead<T> {
    return { records: this.#buffer.slice(countOffset(start, 'iterable'), countOffset(end, 'iterable')) };
  }

  commit(end: Offset): void {
    this.#committed = countOffset(end, 'iterable');
    this.#buffer.discardBefore(this.#committed);
    this.#resume?.();
  }

  stopReceiving(): void {
    this.#done = true;
    this.#resume?.();
    // Not awaited: an async generator blocked on its next value only returns once it yields.
    Promise.resolve(this.#asyncIterator?.return?.()).catch(() => undefined);
  }

  stop(): void {
    this.stopReceiving();
  }

  async #readAhead(iterator: AsyncIterator<T>): Promise<void> {
    try {
      while (!this.#done) {
        if (this.#buffer.end - this.#committed >= this.#highWaterMark) {
          await new Promise<void>((resolve) => (this.#resume = resolve));
          this.#resume = undefined;
          continue;
        }
        const next = await iterator.next();
        if (next.done === true) this.#done = true;
        else if (!this.#done) this.#buffer.push(next.value);
        this.#arrived?.();
      }
    } catch (error) {
      this.#failure = error instanceof Error ? error : new Error(messageOf(error));
      this.#done = true;
    }
    this.#arrived?.();
  }

  /** Resolves when the read-ahead has pushed a record, ended or failed. */
  #arrival(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.#arrived = () => {
        this.#arrived = undefined;
        resolve();
      };
    });
  }
}
