/**
 * The partition of a partitioned job that a context runs, when a runner started it as one
 * partition of a group (`runJob(module, { group })`, `sluice run --group`): the job reads only
 * this partition of its partitioned input and fences its writes with {@link JobPartition.assertOwner}.
 * A context that runs the whole job has none (`ctx.partition` is `undefined`).
 */
export interface JobPartition {
  /** The group's name: every instance of the job gives the same. */
  readonly group: string;
  /** The partition this context runs, from 0. */
  readonly index: number;
  /** How many partitions the job's input splits into (fixed for the group's life). */
  readonly count: number;
  /**
   * Proves this instance still owns the partition (its lease, checked on the server) before a
   * write that must not come from a stale owner.
   *
   * @returns the lease's fencing epoch, which grows each time the partition changes hands.
   * @throws SluiceError `PARTITION_LOST` when another instance owns it now: write nothing.
   */
  assertOwner(): Promise<number>;
}
