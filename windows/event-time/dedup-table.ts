import type { Key } from 'sluice';
import { encodeKey } from 'sluice/extend';

/** Keys by value: strings and numbers as themselves, others (arrays, bigints, booleans) by their encoding. */
class KeyTimes {
  readonly #plain = new Map<string | number, number>();
  readonly #encoded = new Map<string, number>();

  get size(): number {
    return this.#plain.size + this.#encoded.size;
  }

  get(key: Key): number | undefined {
    return typeof key === 'string' || typeof key === 'number' ? this.#plain.get(key === 0 ? 0 : key) : this.#encoded.get(encodeKey(key));
  }

  /** @throws TypeError when `key` is not a key. */
  set(key: Key, time: number): void {
    if (typeof key === 'string' || typeof key === 'number') this.#plain.set(key === 0 ? 0 : key, time);
    else this.#encoded.set(encodeKey(key), time);
  }

  delete(key: Key): void {
    if (typeof key === 'string' || typeof key === 'number') this.#plain.delete(key === 0 ? 0 : key);
    else this.#encoded.delete(encodeKey(key));
  }

  clear(): void {
    this.#plain.clear();
    this.#encoded.clear();
  }
}

/**
 * The keys `dropDuplicates` remembers, each with the time it is remembered until, in memory on
 * every backend (a durable store holds a copy, written with each batch and read back at the
 * first batch after a restart). Keys are also filed in buckets by that time, so forgetting the
 * keys whose time has passed visits only the buckets that may hold some. A batch's changes are
 * journaled: kept when the batch commits ({@link settle}), undone when it does not
 * ({@link rollback}).
 */
export class DedupTable {
  readonly #until = new KeyTimes();
  /** Bucket `b` holds keys remembered until a time in `[b * width, (b + 1) * width)`; it may hold stale keys, checked when visited. */
  readonly #buckets = new Map<number, Key[]>();
  readonly #width: number;
  #added: Key[] = [];
  #removed: [Key, number][] = [];

  /** @param width - the time span of a bucket, in ms (at least 1). */
  constructor(width: number) {
    this.#width = Math.max(1, width);
  }

  /** The keys remembered. */
  get size(): number {
    return this.#until.size;
  }

  has(key: Key): boolean {
    return this.#until.get(key) !== undefined;
  }

  /**
   * Remembers `key`, which it must not hold yet, until `until`.
   *
   * @throws TypeError when `key` is not a key.
   */
  add(key: Key, until: number): void {
    this.#until.set(key, until);
    this.#file(key, until);
    this.#added.push(key);
  }

  /** Forgets every key remembered until before `bound`, telling `onForget` of each. */
  forget(bound: number, onForget?: (key: Key) => void): void {
    const width = this.#width;
    const until = this.#until;
    for (const [bucket, keys] of this.#buckets) {
      if (bucket * width >= bound) continue;
      const left: Key[] = [];
      for (const key of keys) {
        const time = until.get(key);
        if (time === undefined || Math.floor(time / width) !== bucket) continue;
        if (time < bound) {
          until.delete(key);
          this.#removed.push([key, time]);
          onForget?.(key);
        } else {
          left.push(key);
        }
      }
      if (left.length === 0) this.#buckets.delete(bucket);
      else this.#buckets.set(bucket, left);
    }
  }

  /** Keeps the changes since the last settle or rollback. */
  settle(): void {
    this.#added = [];
    this.#removed = [];
  }

  /** Undoes the changes since the last settle or rollback. */
  rollback(): void {
    for (const key of this.#added) this.#until.delete(key);
    for (const [key, time] of this.#removed) {
      this.#until.set(key, time);
      this.#file(key, time);
    }
    this.settle();
  }

  /** Forgets everything (before loading the table again from a store). */
  clear(): void {
    this.#until.clear();
    this.#buckets.clear();
    this.settle();
  }

  #file(key: Key, until: number): void {
    const bucket = Math.floor(until / this.#width);
    const keys = this.#buckets.get(bucket);
    if (keys === undefined) this.#buckets.set(bucket, [key]);
    else keys.push(key);
  }
}
