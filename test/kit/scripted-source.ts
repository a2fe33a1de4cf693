import type { Clock } from 'sluice';
import type { Offset, Source, SourceEnvironment, SourceRead } from 'sluice/extend';

/** A record of a {@link ScriptedSource}: its index in the whole input, and the record. */
export interface Indexed<T> {
  readonly index: number;
  readonly record: T;
}

/**
 * A replayable source of fixed batches for the crash law: the batch planned at clock time
 * `(k + 1) * interval` (the clock started at 0) takes input batch `k`, so a restart on a clock
 * set to a failed batch's time goes on where the run stopped. Offsets are record counts.
 */
export class ScriptedSource<T> implements Source<Indexed<T>> {
  readonly kind = 'scripted';
  readonly replayable = true;
  readonly #records: Indexed<T>[];
  /** The offset at the end of each input batch. */
  readonly #ends: number[] = [];
  readonly #interval: number;
  #clock: Clock | undefined;

  constructor(batches: readonly (readonly T[])[], interval: number) {
    this.#records = batches.flat().map((record, index) => ({ index, record }));
    let end = 0;
    for (const batch of batches) this.#ends.push((end += batch.length));
    this.#interval = interval;
  }

  start(env: SourceEnvironment): void {
    this.#clock = env.clock;
  }

  initialOffset(): Offset {
    return 0;
  }

  latestOffset(start: Offset, maxRecords: number): Offset {
    const due = Math.min(this.#ends.length, Math.floor((this.#clock?.now() ?? 0) / this.#interval));
    const end = due === 0 ? 0 : (this.#ends[due - 1] ?? 0);
    return Math.max(start as number, Math.min(end, (start as number) + maxRecords));
  }

  read(start: Offset, end: Offset): SourceRead<Indexed<T>> {
    return { records: this.#records.slice(start as number, end as number) };
  }
}
