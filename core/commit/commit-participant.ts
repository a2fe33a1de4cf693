import type { BatchPlan } from '../scheduler/batch-plan.js';

/**
 * A batch's commit while its participants prepare it (phase one of the two-phase commit, see
 * {@link CommitParticipant}).
 */
export interface PendingCommit {
  /** The batch being committed. */
  readonly batchId: number;
  /** Its plan: the offsets it read, its times and watermarks. */
  readonly plan: BatchPlan;
  /**
   * Whether this commit persists state. A checkpoint persists state every `interval` batches;
   * between them a participant that keeps changes across batches (a state store) keeps them
   * staged, and recovery replays the batches since. Always true without a checkpoint.
   */
  readonly persistsState: boolean;
  /**
   * Adds operations to the batch's one atomic write, beside its commit record. The operations
   * are opaque to the core: the checkpoint that writes them defines their form (for the LevelDB
   * checkpoint, `batch` operations on its database). The array is taken over, not copied: do not
   * change it afterwards.
   *
   * @throws TypeError when the context has no checkpoint to write them.
   */
  write(operations: object[]): void;
}

/** Which checkpoint a context runs on, as commit participants see it. */
export interface CheckpointIdentity {
  /** The checkpoint's id: the same across every restart on the checkpoint, different for any other. */
  readonly id: string;
  /** Where it lives (a directory), for messages. */
  readonly location: string;
}

/**
 * Everything that must change together with a batch's commit takes part in it through this one
 * interface (docs/architecture.md; Flink's notify-after-commit contract). For batch k:
 *
 * 1. every participant's {@link CommitParticipant.prepare}: it gives its operations for the atomic
 *    write ({@link PendingCommit.write}), or prepares its own external transaction keyed by k;
 * 2. the core does one atomic write: the commit record of k with every operation (with no
 *    checkpoint there is nothing to write);
 * 3. only once that write is durable, every participant's {@link CommitParticipant.committed}
 *    (acknowledge, release, forget undo logs); when anything before failed, every participant's
 *    {@link CommitParticipant.aborted} instead.
 *
 * Recovery never depends on a participant having heard `committed`: a crash can come between the
 * write and any of the calls. A participant with its own external system makes its commit
 * idempotent by the batch id, so that a batch replayed after a crash has no second effect.
 *
 * Register a participant with `graph.addCommitParticipant` before the batches it takes part in;
 * every registered participant takes part in every batch, in registration order.
 */
export interface CommitParticipant {
  /** Names the participant in errors and logs. */
  readonly name: string;
  /**
   * Called once when the context starts, after the checkpoint was read and before any batch:
   * `restored` is the last batch whose commit is final (batches after it are replayed), or
   * `undefined` for a fresh start. A participant finishes here what a crash after a commit may
   * have left undone (an external transaction prepared for a committed batch). `checkpoint` is
   * the context's checkpoint (its id, the same across restarts), or `undefined` without one: a
   * participant with an external system keys its idempotence records by the id. A rejection fails
   * `start()`.
   */
  initialize?(restored: number | undefined, checkpoint: CheckpointIdentity | undefined): Promise<void> | void;
  /** Phase one. A rejection fails the batch: nothing of it is written, and every participant is aborted. */
  prepare(commit: PendingCommit): Promise<void> | void;
  /**
   * Phase two: the batch's commit is durable. A rejection stops the context (error code
   * `POST_COMMIT_FAILED`): the batch stays committed, the participants after this one are not
   * told (as after a crash), and a restart resumes after the batch.
   */
  committed(batchId: number): Promise<void> | void;
  /** The batch failed before its commit was durable (or its write failed): drop what was prepared. Must not throw. */
  aborted(batchId: number): void;
  /**
   * Pipelined commit (the context's `pipelinedCommit`, docs/exactly-once.md): batch k prepared
   * and its atomic write has started, and the next batch may read and compute before that write is
   * durable. Make what k changed the base the next batch reads, as if k had committed (a state
   * store's staged writes, an operator's journaled tables, the watermarks), and keep what
   * `committed(k)` must still do once the write is durable (acknowledge, release, confirm). The
   * next batch's outputs, and its `prepare`, come only after `committed(k)` (or never).
   *
   * A participant that nothing computes on (a sink: only its output and the commit touch it)
   * implements it as a no-op. A context pipelines its commits only while every participant
   * implements it; one without it keeps the context's commits one after the other. After
   * `handOff(k)` the participant hears `committed(k)`, or `aborted(k)` when the write failed (the
   * context then stops, and the next batch is aborted too). Must not throw.
   */
  handOff?(batchId: number): void;
}
