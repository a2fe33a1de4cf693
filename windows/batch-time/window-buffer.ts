import type { Batch } from 'sluice';

/**
 * The batches a windowed stream still needs, oldest first, by batch time. Batch times only grow:
 * the stream appends one batch per batch time and drops from the oldest end.
 */
export class WindowBuffer<T> {
  readonly #times: number[] = [];
  readonly #batches: Batch<T>[] = [];
  #rows = 0;

  /** The number of records held. */
  get rows(): number {
    return this.#rows;
  }

  /** The number of records in the held batches with times after `time`. */
  rowsAfter(time: number): number {
    let rows = this.#rows;
    for (let i = 0; i < this.#times.length && (this.#times[i] as number) <= time; i++) rows -= (this.#batches[i] as Batch<T>).size;
    return rows;
  }

  /** Appends the batch of batch time `time` (later than every held one). */
  push(time: number, batch: Batch<T>): void {
    this.#times.push(time);
    this.#batches.push(batch);
    this.#rows += batch.size;
  }

  /** Removes the newest batch if it is the one of `time` (a batch that did not commit). */
  removeNewest(time: number): void {
    if (this.#times[this.#times.length - 1] !== time) return;
    this.#times.pop();
    this.#rows -= (this.#batches.pop() as Batch<T>).size;
  }

  /** The held batches with times in `(after, upTo]`, oldest first. */
  between(after: number, upTo: number): Batch<T>[] {
    const out: Batch<T>[] = [];
    for (let i = 0; i < this.#times.length; i++) {
      const t = this.#times[i] as number;
      if (t > upTo) break;
      if (t > after) out.push(this.#batches[i] as Batch<T>);
    }
    return out;
  }

  /** The times of the held batches with times in `(after, upTo]`, oldest first (those {@link between} gives). */
  timesBetween(after: number, upTo: number): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.#times.length; i++) {
      const t = this.#times[i] as number;
      if (t > upTo) break;
      if (t > after) out.push(t);
    }
    return out;
  }

  /** The times of the held batches at or before `time`. */
  timesThrough(time: number): number[] {
    return this.#times.filter((t) => t <= time);
  }

  /** Forgets the batches with times at or before `time`. */
  dropThrough(time: number): void {
    let n = 0;
    while (n < this.#times.length && (this.#times[n] as number) <= time) {
      this.#rows -= (this.#batches[n] as Batch<T>).size;
      n++;
    }
    if (n === 0) return;
    this.#times.splice(0, n);
    this.#batches.splice(0, n);
  }
}
