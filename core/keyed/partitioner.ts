import { hashKey, type Key } from '../key.js';

/** The partition of `key` among `numPartitions`: a deterministic hash, the same in every run. */
export function partitionOf(key: Key, numPartitions: number): number {
  return numPartitions === 1 ? 0 : hashKey(key) % numPartitions;
}

/**
 * Checks a user-given partition count; `undefined` means the batch's default parallelism.
 *
 * @throws RangeError when the count is not a positive integer.
 */
export function checkNumPartitions(operator: string, numPartitions: number | undefined): number | undefined {
  if (numPartitions === undefined) return undefined;
  if (!Number.isInteger(numPartitions) || numPartitions < 1) {
    throw new RangeError(`${operator}: numPartitions must be a positive integer, got ${numPartitions}.`);
  }
  return numPartitions;
}
