import type { Key } from 'sluice';
import { hashKey } from 'sluice/extend';

/*
 * Partitioned streams: partition `p` of a stream is the subject `<prefix>.<p>`, and a key's
 * partition is its Sluice key hash modulo the number of partitions, the same in every process.
 */

/**
 * The partition of `key` among `partitions`: Sluice's key hash (the one keyed operators use) modulo
 * `partitions`. With key groups numbering a multiple of `partitions`, each key group lies in one
 * partition.
 *
 * @throws RangeError when `partitions` is not a whole number of at least 1; TypeError for a key that is none of Sluice's.
 */
export function partitionOf(key: Key, partitions: number): number {
  if (!Number.isSafeInteger(partitions) || partitions < 1) throw new RangeError(`partitionOf: partitions must be a whole number of at least 1, got ${String(partitions)}.`);
  return hashKey(key) % partitions;
}

/** @throws TypeError unless `prefix` is a subject without wildcards. */
export function checkSubjectPrefix(what: string, prefix: unknown): void {
  if (typeof prefix !== 'string' || prefix === '' || /[\s*>]/.test(prefix) || prefix.endsWith('.')) throw new TypeError(`${what}: the partition prefix must be a subject without wildcards or a trailing '.', such as 'orders', got ${JSON.stringify(prefix)}.`);
}

/** @throws RangeError unless `partitions` is a whole number from 1 to 100 000. */
export function checkPartitionCount(what: string, partitions: unknown): void {
  if (typeof partitions !== 'number' || !Number.isSafeInteger(partitions) || partitions < 1 || partitions > 100_000) throw new RangeError(`${what}: partitions must be a whole number from 1 to 100000, got ${String(partitions)}.`);
}
