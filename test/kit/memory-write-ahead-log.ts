import { setImmediate as nextTurn } from 'node:timers/promises';
import type { WriteAheadLog } from 'sluice/extend';

/**
 * A {@link WriteAheadLog} in memory, for testing a source that keeps a log in the checkpoint: it
 * outlives the source instances started with it, as a checkpoint outlives a process, so a fixture
 * can hand the same log to a source and to its restarted copy. An append lands a turn later, as a
 * write to disk would; `release` forgets the records before its index at once.
 *
 * @example
 * const log = new MemoryWriteAheadLog();
 * sourceSuite({ test: it, factory: () => ({ source: new MySource(), writeAheadLog: log, reopen: () => new MySource(), produce }) });
 */
export class MemoryWriteAheadLog implements WriteAheadLog {
  #first = 0;
  readonly #records: string[] = [];

  /** The index after the last record. */
  end(): Promise<number> {
    return Promise.resolve(this.#first + this.#records.length);
  }

  /** The index of the oldest record kept. */
  first(): Promise<number> {
    return Promise.resolve(this.#first);
  }

  /** Appends `records`, a turn later. */
  async append(records: readonly string[]): Promise<void> {
    await nextTurn();
    this.#records.push(...records);
  }

  /**
   * The records in `[from, to)`.
   *
   * @throws RangeError when some of them were released.
   */
  read(from: number, to: number): Promise<string[]> {
    if (from < this.#first && to > from) return Promise.reject(new RangeError(`MemoryWriteAheadLog: records before ${this.#first} were released; ${from} was asked for.`));
    return Promise.resolve(this.#records.slice(from - this.#first, to - this.#first));
  }

  /** Forgets the records before `index`. */
  release(index: number): void {
    const to = Math.min(index, this.#first + this.#records.length);
    if (to <= this.#first) return;
    this.#records.splice(0, to - this.#first);
    this.#first = to;
  }
}
