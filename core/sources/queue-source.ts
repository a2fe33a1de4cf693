import type { Offset, Source, SourceRead } from './source.js';
import { countOffset, RecordBuffer } from './record-buffer.js';

/** Options of {@link QueueSource}. */
export interface QueueSourceOptions {
  /** Take one queued batch per batch (default) or everything queued. */
  readonly oneAtATime?: boolean;
}

/**
 * Spark's `queueStream`: each batch takes the next array of records from a queue that the
 * program (or a test) fills, even after the context has started. Not replayable after a restart:
 * the queue lives in memory.
 *
 * **Memory.** Not bounded by the source: the queue holds whatever the program pushes until a
 * batch takes it, and the records taken stay held until their batch commits (one queued array
 * per batch with `oneAtATime`, the default; everything queued otherwise). A program that pushes
 * faster than the batches run must wait on its own (for example on the progress events).
 */
export class QueueSource<T> implements Source<T> {
  readonly kind = 'queue';
  readonly replayable = false;
  /** The queue: push arrays of records onto it at any time. */
  readonly queue: T[][];
  readonly #oneAtATime: boolean;
  readonly #buffer = new RecordBuffer<T>();

  constructor(queue: T[][] = [], options: QueueSourceOptions = {}) {
    this.queue = queue;
    this.#oneAtATime = options.oneAtATime ?? true;
  }

  /** Queues one batch of records. */
  push(records: readonly T[]): void {
    this.queue.push([...records]);
  }

  initialOffset(): Offset {
    return 0;
  }

  latestOffset(startOffset: Offset, maxRecords: number): Offset {
    const start = countOffset(startOffset, 'queue');
    if (this.#buffer.end <= start) {
      const take = this.#oneAtATime ? Math.min(1, this.queue.length) : this.queue.length;
      for (const records of this.queue.splice(0, take)) this.#buffer.pushAll(records);
    }
    return Math.min(this.#buffer.end, start + maxRecords);
  }

  /** A bounded run ends when the queue is empty (arrays pushed during the run are taken too, if in time). */
  prepareForBoundedRun(): void {
    // The queue ends by itself: nothing to fix.
  }

  read(start: Offset, end: Offset): SourceRead<T> {
    return { records: this.#buffer.slice(countOffset(start, 'queue'), countOffset(end, 'queue')) };
  }

  commit(end: Offset): void {
    this.#buffer.discardBefore(countOffset(end, 'queue'));
  }
}
