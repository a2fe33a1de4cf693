import type { LevelStateBackend, StateBackend, StateStore } from 'sluice/state';

/**
 * The state backend of a checkpointed context: the stores live in the checkpoint's LevelDB, and
 * their changes are written by the checkpoint's own atomic commit (with the commit record and the
 * sink rows), not by the backend. Between persisted batches (`checkpointInterval` > 1) the
 * changes stay staged in the stores.
 */
export class CheckpointStateBackend implements StateBackend {
  readonly kind = 'checkpoint';
  #inner: LevelStateBackend | undefined;

  /** Connects the backend to the checkpoint's database once it is open. */
  attach(inner: LevelStateBackend): void {
    this.#inner = inner;
  }

  /** The LevelDB backend (after the checkpoint opened). */
  get inner(): LevelStateBackend {
    if (this.#inner === undefined) throw new Error('The checkpoint is not open yet.');
    return this.#inner;
  }

  open(operatorId: string): Promise<StateStore> {
    return this.inner.open(operatorId);
  }

  /** Nothing here: the checkpoint's commit writes the prepared changes. */
  commit(): Promise<void> {
    return Promise.resolve();
  }

  abort(batchId: number): void {
    this.#inner?.abort(batchId);
  }

  /** Nothing here: the checkpoint closes the stores with its database. */
  close(): Promise<void> {
    return Promise.resolve();
  }
}
