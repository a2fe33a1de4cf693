import type { DStream } from 'sluice';

/** What an operator keeps in memory with a batch's changes journaled: kept or undone at the end. */
export interface Journaled {
  /** Keeps the batch's changes (it committed). */
  settle(): void;
  /** Undoes the batch's changes (it did not commit). */
  rollback(): void;
}

/**
 * Ties an operator's in-memory state to the commit protocol: the changes a batch made (from
 * {@link open}) are settled when that batch commits and rolled back when it does not. The event-time
 * operators keep their tables in memory on every backend and journal each batch's changes.
 */
export class PendingBatch {
  #batchId: number | undefined;

  /** Registers with `operator`'s graph as a commit participant named after the operator. */
  constructor(operator: DStream<unknown>, changes: Journaled) {
    operator.graph.addCommitParticipant({
      name: operator.describe,
      prepare: () => undefined,
      committed: (batchId) => {
        if (this.#batchId !== batchId) return;
        this.#batchId = undefined;
        changes.settle();
      },
      // Pipelined commit: the next batch computes on the batch's changes as if it had committed.
      handOff: (batchId) => {
        if (this.#batchId !== batchId) return;
        this.#batchId = undefined;
        changes.settle();
      },
      aborted: (batchId) => {
        if (this.#batchId !== batchId) return;
        this.#batchId = undefined;
        changes.rollback();
      },
    });
  }

  /** From now until its commit or abort, the state's changes are batch `batchId`'s. */
  open(batchId: number): void {
    this.#batchId = batchId;
  }
}
