/**
 * Records held by offset (the record's index since the source started) until they are committed:
 * the replay buffer of sources whose data lives only in memory.
 */
export class RecordBuffer<T> {
  #base = 0;
  #records: T[] = [];

  /** The offset after the last record held. */
  get end(): number {
    return this.#base + this.#records.length;
  }

  push(record: T): void {
    this.#records.push(record);
  }

  /** The records in `[start, end)`. */
  slice(start: number, end: number): T[] {
    if (start < this.#base) {
      throw new RangeError(`Records before offset ${this.#base} were already committed and forgotten; cannot read from ${start}.`);
    }
    return this.#records.slice(start - this.#base, end - this.#base);
  }

  /** Forgets the records before `offset`. */
  discardBefore(offset: number): void {
    const drop = Math.min(this.#records.length, offset - this.#base);
    if (drop <= 0) return;
    this.#records = this.#records.slice(drop);
    this.#base += drop;
  }
}

/** An offset of a count-based source, checked. */
export function countOffset(offset: unknown, source: string): number {
  if (typeof offset !== 'number' || !Number.isInteger(offset) || offset < 0) {
    throw new TypeError(`${source}: offset ${JSON.stringify(offset)} is not a record count.`);
  }
  return offset;
}
