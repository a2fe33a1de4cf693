import type { Checkpointer, CommitRecord } from '../checkpoint-port.js';
import { SluiceError, messageOf } from '../errors.js';
import type { DStreamGraph } from '../graph.js';
import type { BatchPlan } from '../scheduler/batch-plan.js';
import type { CommitParticipant } from './commit-participant.js';
import { CommitWrites } from './commit-writes.js';

/**
 * Commits a computed batch by the two-phase protocol of {@link CommitParticipant}: every
 * participant prepares (the graph's in registration order, then the checkpointer's own), the
 * checkpointer does the one atomic write, then the checkpointer and every participant, in that
 * order, hear `committed`.
 *
 * @returns `undefined` once every participant heard `committed`, or the error that stopped the
 * `committed` calls (the batch is committed all the same).
 * @throws SluiceError when the batch could not be committed: every participant was aborted and
 * nothing of the batch is durable.
 */
export async function commitBatch(graph: DStreamGraph, plan: BatchPlan): Promise<SluiceError | undefined> {
  const { batchId } = plan;
  const checkpointer = graph.checkpointer;
  const participants = graph.commitParticipants.slice();
  const commit = new CommitWrites(plan, checkpointer?.persistsState(batchId) ?? true, checkpointer !== undefined);
  try {
    for (const participant of participants) await prepare(participant, commit);
    if (checkpointer !== undefined) {
      await prepare(checkpointer, commit);
      await write(checkpointer, plan, commit, graph);
    }
  } catch (error) {
    abortBatch(graph, batchId);
    throw error;
  }
  const told = checkpointer === undefined ? participants : [checkpointer, ...participants];
  for (const participant of told) {
    try {
      await participant.committed(batchId);
    } catch (error) {
      return new SluiceError(
        'POST_COMMIT_FAILED',
        `Batch ${batchId} committed, but ${participant.name} failed to complete it: ${messageOf(error)}. The context stopped; a restart on the checkpoint resumes after the batch.`,
        { batchId, batchTime: plan.batchTime, cause: error },
      );
    }
  }
  return undefined;
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
