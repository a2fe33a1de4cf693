import type { PendingCommit, StateBackend, StateStore } from 'sluice/extend';
import type { LevelStateBackend } from 'sluice/state';

/**
 * The state backend of a checkpointed context: the stores live in the checkpoint's LevelDB, and
 * their changes go into the checkpoint's own atomic write (with the commit record and the sink
 * rows). The backend exists from the context's construction; its database opens with the
 * checkpoint at start, so it delegates to a LevelDB backend created then.
 */
export class CheckpointStateBackend implements StateBackend {
  readonly kind = 'checkpoint';
  readonly name = "the checkpoint's state backend";
  #inner: LevelStateBackend | undefined;

  /** Connects the backend to the checkpoint's database once it is open. */
  attach(inner: LevelStateBackend): void {
    this.#inner = inner;
  }

  /** The LevelDB backend (after the checkpoint opened). */
  get inner(): LevelStateBackend {
    if (this.#inner === undefined) throw new TypeError('The checkpoint is not open yet: state is readable once the streaming context has started.');
    return this.#inner;
  }

  open(operatorId: string): Promise<StateStore> {
    return this.inner.open(operatorId);
  }

  prepare(commit: PendingCommit): Promise<void> {
    return this.inner.prepare(commit);
  }

  committed(batchId: number): void {
    this.#inner?.committed(batchId);
  }

  handOff(batchId: number): void {
    this.#inner?.handOff(batchId);
  }

  aborted(batchId: number): void {
    this.#inner?.aborted(batchId);
  }

  /** Closes the stores (the checkpoint closes the database after them). */
  async close(): Promise<void> {
    const inner = this.#inner;
    this.#inner = undefined;
    await inner?.close();
  }
}
