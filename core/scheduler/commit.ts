/**
 * Something that holds changes staged while a batch runs and must make them permanent when the
 * batch commits, or drop them when it fails: a state backend today, the checkpoint's atomic write
 * later. Participants register for a batch through `BatchContext.onCommit`.
 */
export interface CommitParticipant {
  /** Makes the batch's staged changes permanent. A rejection fails the batch. */
  commit(batchId: number): Promise<void> | void;
  /** Drops the batch's staged changes (the batch failed). Must not throw. */
  abort(batchId: number): void;
}
