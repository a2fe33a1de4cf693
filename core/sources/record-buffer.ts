/**
 * Records held by offset (the record's index since the source started) until they are committed:
 * the replay buffer of sources whose data lives only in memory.
 */
export class RecordBuffer<T> {
  /** Offset of `#records[#head]`. */
  #base = 0;
  /** Index of the first live record; the array is compacted once half of it is dead. */
  #head = 0;
  #records: T[] = [];

  /** The offset of the first record held. */
  get base(): number {
    return this.#base;
  }

  /** Starts an empty buffer at offset `offset` (records before it live elsewhere). */
  startAt(offset: number): void {
    if (this.end !== this.#base) throw new Error('RecordBuffer.startAt: the buffer is not empty.');
    this.#base = offset;
  }

  /** The offset after the last record held. */
  get end(): number {
    return this.#base + this.#records.length - this.#head;
  }

  push(record: T): void {
    this.#records.push(record);
  }

  /** Appends `records` (copied: the caller may reuse its array). */
  pushAll(records: readonly T[]): void {
    if (this.#head === this.#records.length) {
      // Nothing live: start over from a copy, which is much cheaper than pushing one by one.
      this.#records = records.slice();
      this.#head = 0;
    } else {
      for (let i = 0; i < records.length; i++) this.#records.push(records[i] as T);
    }
  }

  /** The records in `[start, end)`. */
  slice(start: number, end: number): T[] {
    if (start < this.#base) {
      throw new RangeError(`Records before offset ${this.#base} were already committed and forgotten; cannot read from ${start}.`);
    }
    return this.#records.slice(this.#head + start - this.#base, this.#head + end - this.#base);
  }

  /** Forgets the records before `offset`. */
  discardBefore(offset: number): void {
    const drop = Math.min(this.end - this.#base, offset - this.#base);
    if (drop <= 0) return;
    this.#head += drop;
    this.#base += drop;
    if (this.#head * 2 >= this.#records.length) {
      this.#records = this.#records.slice(this.#head);
      this.#head = 0;
    }
  }
}

/** An offset of a count-based source, checked. */
export function countOffset(offset: unknown, source: string): number {
  if (typeof offset !== 'number' || !Number.isInteger(offset) || offset < 0) {
    throw new TypeError(`${source}: offset ${JSON.stringify(offset)} is not a record count.`);
  }
  return offset;
}
