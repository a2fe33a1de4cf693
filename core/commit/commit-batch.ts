import type { Checkpointer, CommitRecord } from '../checkpoint-port.js';
import { SluiceError, messageOf } from '../errors.js';
import type { DStreamGraph } from '../graph.js';
import type { BatchPlan } from '../scheduler/batch-plan.js';
import type { CheckpointCommitProgress } from '../events.js';
import type { CommitParticipant } from './commit-participant.js';
import { CommitWrites } from './commit-writes.js';

/** How a batch's commit ended, once it is complete. */
export interface CommitOutcome {
  /** The error that stopped the `committed` calls, if one did (the batch is committed all the same). */
  readonly postCommitFailure: SluiceError | undefined;
  /** With a checkpoint, the figures of the batch's atomic write. */
  readonly checkpointCommit: CheckpointCommitProgress | undefined;
}

/**
 * Whether batches may overlap their commits (see {@link CommitParticipant.handOff}): with a
 * checkpoint (its atomic write is what overlaps) whose checkpointer and every participant can hand
 * a batch off.
 */
export function canPipeline(graph: DStreamGraph): boolean {
  const checkpointer = graph.checkpointer;
  if (checkpointer?.handOff === undefined) return false;
  for (const participant of graph.commitParticipants) if (participant.handOff === undefined) return false;
  return true;
}

/**
 * Commits a computed batch by the two-phase protocol of {@link CommitParticipant}: every
 * participant prepares (the graph's in registration order, then the checkpointer's own), the
 * checkpointer does the one atomic write, then the checkpointer and every participant, in that
 * order, hear `committed`.
 *
 * Resolves once every participant has prepared and the atomic write has started; `done` settles
 * when the commit is complete. With `handOff`, every participant (the checkpointer first) is
 * handed the batch off as soon as the write has started, before `done` settles: the next batch
 * may then compute on the batch's changes while its write is in flight (the pipelined commit).
 *
 * @returns `done`: the commit's outcome once the `committed` calls have run. It rejects with a
 * SluiceError when the atomic write failed: every participant was then aborted and nothing of the
 * batch is durable.
 * @throws SluiceError when a participant could not prepare: every participant was aborted and
 * nothing of the batch was written.
 */
export async function beginCommit(graph: DStreamGraph, plan: BatchPlan, now: () => number, handOff: boolean): Promise<{ readonly done: Promise<CommitOutcome> }> {
  const { batchId } = plan;
  const checkpointer = graph.checkpointer;
  const participants = graph.commitParticipants.slice();
  const commit = new CommitWrites(plan, checkpointer?.persistsState(batchId) ?? true, checkpointer !== undefined);
  try {
    for (const participant of participants) await prepare(participant, commit);
    if (checkpointer !== undefined) await prepare(checkpointer, commit);
  } catch (error) {
    abortBatch(graph, batchId);
    throw error;
  }
  const told = checkpointer === undefined ? participants : [checkpointer, ...participants];
  const started = now();
  // The commit record (with the watermarks as the batch leaves them) is built before write() first awaits.
  const writing = checkpointer === undefined ? undefined : write(checkpointer, plan, commit, graph);
  const handOffFailure = handOff ? handOffAll(told, plan) : undefined;
  const done = (async (): Promise<CommitOutcome> => {
    let checkpointCommit: CheckpointCommitProgress | undefined;
    if (writing !== undefined) {
      try {
        await writing;
      } catch (error) {
        abortBatch(graph, batchId);
        throw error;
      }
      checkpointCommit = { durationMs: Math.max(0, now() - started), ...writeSize(commit.operations()) };
    }
    if (handOffFailure !== undefined) return { postCommitFailure: handOffFailure, checkpointCommit };
    for (const participant of told) {
      try {
        await participant.committed(batchId);
      } catch (error) {
        const postCommitFailure = new SluiceError(
          'POST_COMMIT_FAILED',
          `Batch ${batchId} committed, but ${participant.name} failed to complete it: ${messageOf(error)}. The context stopped; a restart on the checkpoint resumes after the batch.`,
          { batchId, batchTime: plan.batchTime, cause: error },
        );
        return { postCommitFailure, checkpointCommit };
      }
    }
    return { postCommitFailure: undefined, checkpointCommit };
  })();
  return { done };
}

/** Hands the batch off to every participant; a participant that throws (it must not) stops the context once the batch is durable. */
function handOffAll(participants: readonly CommitParticipant[], plan: BatchPlan): SluiceError | undefined {
  for (const participant of participants) {
    try {
      participant.handOff?.(plan.batchId);
    } catch (error) {
      return new SluiceError(
        'POST_COMMIT_FAILED',
        `Batch ${plan.batchId} committed, but ${participant.name} failed to hand it off to the next batch: ${messageOf(error)}. The context stopped; a restart on the checkpoint resumes after the batch.`,
        { batchId: plan.batchId, batchTime: plan.batchTime, cause: error },
      );
    }
  }
  return undefined;
}

/** The operations of an atomic write and the bytes of their keys and values (strings counted by length), once per batch. */
function writeSize(operations: readonly object[]): { readonly operations: number; readonly bytes: number } {
  let bytes = 0;
  for (const operation of operations) {
    const { key, value } = operation as { key?: unknown; value?: unknown };
    bytes += sizeOf(key) + sizeOf(value);
  }
  return { operations: operations.length, bytes };
}

function sizeOf(part: unknown): number {
  if (typeof part === 'string') return part.length;
  return part instanceof Uint8Array ? part.byteLength : 0;
}

async function prepare(participant: CommitParticipant, commit: CommitWrites): Promise<void> {
  try {
    await participant.prepare(commit);
  } catch (error) {
    if (error instanceof SluiceError || error instanceof TypeError || error instanceof RangeError) throw error;
    throw new SluiceError('COMMIT_FAILED', `${participant.name} could not prepare the commit of batch ${commit.batchId}: ${messageOf(error)}`, { cause: error });
  }
}

async function write(checkpointer: Checkpointer, plan: BatchPlan, commit: CommitWrites, graph: DStreamGraph): Promise<void> {
  const record: CommitRecord = {
    batchId: plan.batchId,
    batchTime: plan.batchTime,
    offsets: Object.fromEntries(plan.ranges.map((r) => [r.source, r.end])),
    watermarks: graph.watermarks.pendingSnapshot(),
  };
  try {
    await checkpointer.write(plan, record, commit.operations());
  } catch (error) {
    if (error instanceof SluiceError) throw error;
    throw new SluiceError('COMMIT_FAILED', `The atomic write of batch ${plan.batchId} to the checkpoint at ${checkpointer.location} failed: ${messageOf(error)}. Nothing of the batch was written; a restart replays it.`, { cause: error });
  }
}

/** Tells the checkpointer and every participant that the batch will not commit. */
export function abortBatch(graph: DStreamGraph, batchId: number): void {
  const all = graph.checkpointer === undefined ? graph.commitParticipants : [graph.checkpointer, ...graph.commitParticipants];
  for (const participant of all) {
    try {
      participant.aborted(batchId);
    } catch {
      // aborted must not throw; one that does cannot keep the others from being told.
    }
  }
}
