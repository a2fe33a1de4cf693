import { RecordBuffer } from './record-buffer.js';
import type { WriteAheadLog } from './source.js';

/**
 * The lines a push source has received, by index: in memory until committed and, when the
 * context is checkpointed, first written to the receiver write-ahead log, so that a line becomes
 * visible to batches only once it is durable and a restart can read it again.
 *
 * It counts what it holds (lines received and not yet discarded, those still on their way to the
 * log included) so that the source can bound it.
 */
export class ReceivedLines {
  readonly #buffer = new RecordBuffer<string>();
  /** Per `add` not yet wholly discarded, oldest first: the index after its lines, and their bytes. */
  #adds: { readonly end: number; readonly bytes: number }[] = [];
  #addsHead = 0;
  /** The index after the last line received (visible or not). */
  #received = 0;
  #bufferedBytes = 0;
  #wal: WriteAheadLog | undefined;
  #pending: Promise<void> = Promise.resolve();
  #failure: Error | undefined;

  /** Whether lines are written ahead to a log (and so can be read again after a restart). */
  get durable(): boolean {
    return this.#wal !== undefined;
  }

  /** Writes lines ahead to `wal`; indexes continue after what it already holds. */
  async attach(wal: WriteAheadLog): Promise<void> {
    this.#wal = wal;
    this.#received = await wal.end();
    this.#buffer.startAt(this.#received);
  }

  /** Lines held: received and not yet discarded, including those not visible yet. */
  get bufferedLines(): number {
    return this.#received - this.#buffer.base;
  }

  /**
   * Bytes of the lines held, as given to `add`. A line is counted until every line of its `add`
   * is discarded, so this overstates by at most one `add` partly discarded.
   */
  get bufferedBytes(): number {
    return this.#bufferedBytes;
  }

  /** The index after the last visible line. */
  get end(): number {
    return this.#buffer.end;
  }

  /** Receives lines, `bytes` in all: visible at once, or once the write-ahead log holds them. */
  add(lines: readonly string[], bytes: number): void {
    if (lines.length === 0) return;
    this.#received += lines.length;
    this.#adds.push({ end: this.#received, bytes });
    this.#bufferedBytes += bytes;
    const wal = this.#wal;
    if (wal === undefined) {
      this.#buffer.pushAll(lines);
      return;
    }
    this.#pending = this.#pending
      .then(() => wal.append(lines))
      .then(
        () => {
          this.#buffer.pushAll(lines);
        },
        (error: unknown) => {
          this.#failure ??= error instanceof Error ? error : new Error(String(error));
        },
      );
  }

  /** Resolves when every line received so far is visible. */
  flushed(): Promise<void> {
    return this.#pending;
  }

  /** Throws the write-ahead log's failure, if it had one. */
  check(): void {
    if (this.#failure !== undefined) throw this.#failure;
  }

  /** The lines with indexes in `[from, to)`: from memory, or from the log for lines received before a restart. */
  read(from: number, to: number): string[] | Promise<string[]> {
    const base = this.#buffer.base;
    if (from >= base || this.#wal === undefined) return this.#buffer.slice(from, to);
    const wal = this.#wal;
    return wal.read(from, Math.min(to, base)).then((older) => (to > base ? [...older, ...this.#buffer.slice(base, to)] : older));
  }

  /** Forgets the lines before `index` (committed). */
  discardBefore(index: number): void {
    this.#buffer.discardBefore(index);
    const adds = this.#adds;
    let head = this.#addsHead;
    for (let add = adds[head]; add !== undefined && add.end <= this.#buffer.base; add = adds[++head]) this.#bufferedBytes -= add.bytes;
    if (head * 2 >= adds.length) {
      this.#adds = adds.slice(head);
      head = 0;
    }
    this.#addsHead = head;
  }
}
