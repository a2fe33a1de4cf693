import type { BatchPlan, PendingCommit, StateBackend } from 'sluice/extend';

/** A {@link PendingCommit} of batch `batchId` with no checkpoint to write operations to (as in a context without one). */
export function pendingCommit(batchId: number, options: { readonly persistsState?: boolean } = {}): PendingCommit {
  const plan: BatchPlan = { batchId, batchTime: ((batchId + 1) * 1000) as BatchPlan['batchTime'], processingTime: 0 as BatchPlan['processingTime'], watermark: undefined, watermarks: {}, ranges: [] };
  return {
    batchId,
    plan,
    persistsState: options.persistsState ?? true,
    write: () => {
      throw new TypeError('no checkpoint to write to');
    },
  };
}

/** Runs both phases of a batch's commit on a state backend, as a context without a checkpoint does. */
export async function commitBackend(backend: StateBackend, batchId: number): Promise<void> {
  await backend.prepare(pendingCommit(batchId));
  await backend.committed(batchId);
}
