/**
 * One micro-batch of a stream: an immutable list of partitions (the RDD analogue). Operators read
 * it partition by partition; nothing changes it once computed.
 */
export class Batch<T> {
  /** The partitions, each an immutable array of records. */
  readonly partitions: readonly (readonly T[])[];
  /**
   * The event time (ms) of each record, per partition, parallel to {@link Batch.partitions}: set
   * by `withWatermark` and carried by the per-record operators and `union` (see
   * `docs/watermarks-and-late-data.md`); `undefined` for a stream that carries none.
   */
  readonly eventTimes: readonly Float64Array[] | undefined;

  /**
   * @param eventTimes - each record's event time, per partition (as long as its partition).
   * @throws RangeError when `eventTimes` does not match the partitions in shape.
   */
  constructor(partitions: readonly (readonly T[])[], eventTimes?: readonly Float64Array[]) {
    this.partitions = partitions;
    if (eventTimes !== undefined && (eventTimes.length !== partitions.length || partitions.some((p, i) => p.length !== eventTimes[i]?.length))) {
      throw new RangeError('A batch needs one event time per record: eventTimes must have the shape of its partitions.');
    }
    this.eventTimes = eventTimes;
  }

  /** A batch with no records and `numPartitions` empty partitions. */
  static empty<T>(numPartitions = 1): Batch<T> {
    return new Batch(Array.from({ length: partitionCount(numPartitions) }, () => []));
  }

  /**
   * A batch of `records` cut into `numPartitions` contiguous slices of near-equal size, so that
   * reading the partitions in order gives the records in order. An array is taken as it is, not
   * copied: do not change it afterwards.
   *
   * @throws RangeError when `numPartitions` is infinite.
   */
  static of<T>(records: Iterable<T>, numPartitions = 1): Batch<T> {
    const all = Array.isArray(records) ? (records as readonly T[]) : Array.from(records);
    const n = partitionCount(numPartitions);
    if (n === 1) return new Batch([all]);
    const partitions: T[][] = [];
    const base = Math.floor(all.length / n);
    const extra = all.length % n;
    let start = 0;
    for (let p = 0; p < n; p++) {
      const end = start + base + (p < extra ? 1 : 0);
      partitions.push(all.slice(start, end));
      start = end;
    }
    return new Batch(partitions);
  }

  /** The number of partitions. */
  get numPartitions(): number {
    return this.partitions.length;
  }

  /** The number of records in all partitions. */
  get size(): number {
    let n = 0;
    for (const p of this.partitions) n += p.length;
    return n;
  }

  /** All records, partition after partition. */
  toArray(): T[] {
    if (this.partitions.length === 1) return [...(this.partitions[0] ?? [])];
    const out: T[] = [];
    for (const p of this.partitions) for (const r of p) out.push(r);
    return out;
  }

  /** A new batch with `fn` applied to every record, partitioning kept. */
  map<U>(fn: (record: T) => U): Batch<U> {
    return new Batch(this.partitions.map((p) => p.map((r) => fn(r))));
  }

  /** A new batch of the records that satisfy `predicate`, partitioning kept. */
  filter(predicate: (record: T) => boolean): Batch<T> {
    return new Batch(this.partitions.map((p) => p.filter((r) => predicate(r))));
  }

  /** A new batch of every record `fn` returns, partitioning kept. */
  flatMap<U>(fn: (record: T) => Iterable<U>): Batch<U> {
    return new Batch(
      this.partitions.map((p) => {
        const out: U[] = [];
        for (const r of p) for (const u of fn(r)) out.push(u);
        return out;
      }),
    );
  }
}

/** A partition count from a number: at least 1, whole; `NaN` counts as 1. */
function partitionCount(numPartitions: number): number {
  if (numPartitions === Number.POSITIVE_INFINITY) throw new RangeError('A batch cannot have infinitely many partitions.');
  return Number.isNaN(numPartitions) ? 1 : Math.max(1, Math.floor(numPartitions));
}

/** What a batch-level function may return: a batch or any iterable of records. */
export type BatchLike<T> = Batch<T> | Iterable<T>;

/** Turns a {@link BatchLike} into a batch, keeping a batch's partitioning. */
export function toBatch<T>(value: BatchLike<T>, numPartitions = 1): Batch<T> {
  if (value instanceof Batch) return value;
  if (typeof (value as Partial<Iterable<T>> | null)?.[Symbol.iterator] !== 'function') {
    throw new TypeError(`Expected a Batch or an iterable of records, got ${value === null ? 'null' : typeof value}.`);
  }
  return Batch.of(value, numPartitions);
}
