import type { Offset, Source, SourceRead } from 'sluice/extend';

/** The input of a test stream: every record added so far, by offset; it outlives each context, so it replays. */
export class AddedRecords<T> implements Source<T> {
  readonly kind = 'testStream';
  readonly replayable = true;
  readonly #records: readonly T[];

  constructor(records: readonly T[]) {
    this.#records = records;
  }

  initialOffset(): Offset {
    return 0;
  }

  latestOffset(start: Offset, maxRecords: number): Offset {
    return Math.min(this.#records.length, (start as number) + maxRecords);
  }

  read(start: Offset, end: Offset): SourceRead<T> {
    return { records: this.#records.slice(start as number, end as number) };
  }
}
