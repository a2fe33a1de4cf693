import type { BatchPlan } from '../scheduler/batch-plan.js';
import type { PendingCommit } from './commit-participant.js';

/** The {@link PendingCommit} of one batch: gathers the participants' operations for the atomic write. */
export class CommitWrites implements PendingCommit {
  readonly batchId: number;
  readonly plan: BatchPlan;
  readonly persistsState: boolean;
  readonly #writable: boolean;
  #operations: object[] | undefined;

  constructor(plan: BatchPlan, persistsState: boolean, writable: boolean) {
    this.batchId = plan.batchId;
    this.plan = plan;
    this.persistsState = persistsState;
    this.#writable = writable;
  }

  write(operations: object[]): void {
    if (!this.#writable) {
      throw new TypeError(`Batch ${this.batchId}: a commit participant gave operations for the atomic write, but the context has no checkpoint to write them; create the context with a checkpoint, or let the participant write its own data.`);
    }
    if (operations.length === 0) return;
    const held = this.#operations;
    // The first array is taken over, not copied: a state commit can hold a million operations.
    if (held === undefined) this.#operations = operations;
    else for (const operation of operations) held.push(operation);
  }

  /** Every operation given, in order: an array the writer may extend. */
  operations(): object[] {
    return (this.#operations ??= []);
  }
}
