import { SluiceError } from 'sluice';

/**
 * The partition's lease is not (or no longer) this member's: another member took it over after
 * the lease expired (this member stopped renewing it: paused, overloaded or cut off), or it was
 * handed over. A write fenced by the lease is refused with it, and nothing was written. The
 * member must stop working on the partition; its new owner replays it from the last committed
 * offsets. A `SluiceError` with code `PARTITION_LOST`.
 */
export class PartitionLostError extends SluiceError {
  /** The partition. */
  readonly partition: number;
  /** The member that lost it. */
  readonly member: string;
  /** The epoch of the lease it held (0 when it never held it). */
  readonly epoch: number;

  constructor(partition: number, member: string, epoch: number, why: string) {
    super('PARTITION_LOST', `Member ${member} does not own partition ${partition} (any more): ${why}. Nothing was written; stop working on the partition, its owner replays it from the last committed offsets.`);
    this.name = 'PartitionLostError';
    this.partition = partition;
    this.member = member;
    this.epoch = epoch;
  }
}
