import { hashKey, type Key } from '../key.js';

/**
 * The number of key groups keyed state is cut into: fixed, the same in every process, release,
 * restart and worker count (Flink's maximum parallelism). 27 720 is the least common multiple of
 * 1 to 12, so a JetStream stream partitioned into any of 1 to 12 partitions (or 14, 15, 18, 20,
 * 21, 22, 24, 28, 30 ...) holds whole key groups: key group `g` lies in partition `g % partitions`,
 * since both are the key hash modulo a divisor.
 */
export const KEY_GROUPS = 27_720;

/** The key group of `key`: Sluice's key hash modulo {@link KEY_GROUPS}. */
export function keyGroupOf(key: Key): number {
  return hashKey(key) % KEY_GROUPS;
}

/**
 * The partition, among `numPartitions`, of a keyed state operator's `key`: partitions are
 * contiguous ranges of key groups (see {@link keyGroupRange}), so every key of a partition lies in
 * one of the partition's whole key groups, whatever `numPartitions` is.
 */
export function keyGroupPartitionOf(key: Key, numPartitions: number): number {
  return numPartitions === 1 ? 0 : Math.floor((keyGroupOf(key) * numPartitions) / KEY_GROUPS);
}

/** The key groups `[start, end)` of partition `partition` among `numPartitions` (empty when there are more partitions than key groups). */
export function keyGroupRange(partition: number, numPartitions: number): { readonly start: number; readonly end: number } {
  return { start: Math.ceil((partition * KEY_GROUPS) / numPartitions), end: Math.ceil(((partition + 1) * KEY_GROUPS) / numPartitions) };
}
