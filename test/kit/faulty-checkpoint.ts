import type { BatchPlan, Checkpointer, CheckpointStorage, CommitRecord, GraphFingerprint, PendingCommit, Recovery, WriteAheadLog } from 'sluice/extend';

/**
 * Where {@link faultyCheckpoint} makes a batch's commit fail, each asked with the batch's id
 * (`true`: fail this batch there). The failure is an error thrown at that point, as a crash there
 * would leave things: the context stops, and a new context on the same checkpoint recovers.
 */
export interface CheckpointFaults {
  /** Just before the batch's atomic write: nothing of the batch is durable. */
  readonly beforeWrite?: (batchId: number) => boolean;
  /** Just after the atomic write, before any participant hears `committed`. */
  readonly afterWrite?: (batchId: number) => boolean;
  /** After the checkpoint heard `committed`, before the other participants do. */
  readonly betweenCommitted?: (batchId: number) => boolean;
  /**
   * While the batch's atomic write is in flight, as the engine sees it: called in its place with
   * `write`, which does the real write (once; the first call starts it). The batch's write
   * completes when the returned promise resolves (the real write done, started here if the hook
   * did not), and fails with its rejection: nothing of the batch is durable when the hook rejects
   * without having called `write`, everything is when it awaited it. With the pipelined commit the
   * next batch computes meanwhile: hold it to crash "N's write in flight while N+1 computes".
   */
  readonly duringWrite?: (batchId: number, write: () => Promise<void>) => Promise<void> | void;
}

/**
 * A checkpoint storage whose checkpointers fail where `faults` say, for crash tests: a decorator
 * of the checkpoint port (every call goes to the checkpointer of `storage`), so a test can crash
 * a real checkpointed job at the steps of its commit.
 *
 * @example
 * const checkpoint = faultyCheckpoint(levelCheckpoint(dir), { afterWrite: (batchId) => batchId === 3 });
 * const ctx = new StreamingContext({ batchInterval: 1000, clock, checkpoint });
 */
export function faultyCheckpoint(storage: CheckpointStorage, faults: CheckpointFaults): CheckpointStorage {
  return {
    location: storage.location,
    createCheckpointer: () => new FaultyCheckpointer(storage.createCheckpointer(), faults),
  };
}

class FaultyCheckpointer implements Checkpointer {
  readonly inner: Checkpointer;
  readonly writeAheadLog?: (source: string) => WriteAheadLog;
  readonly handOff?: (batchId: number) => void;
  readonly #faults: CheckpointFaults;

  constructor(inner: Checkpointer, faults: CheckpointFaults) {
    this.inner = inner;
    this.#faults = faults;
    if (inner.writeAheadLog !== undefined) this.writeAheadLog = inner.writeAheadLog.bind(inner);
    // The pipelined commit is on exactly when the inner checkpointer supports it.
    if (inner.handOff !== undefined) this.handOff = inner.handOff.bind(inner);
  }

  get id(): string | undefined {
    return this.inner.id;
  }

  get name(): string {
    return this.inner.name;
  }

  get location(): string {
    return this.inner.location;
  }

  get stateBackend(): Checkpointer['stateBackend'] {
    return this.inner.stateBackend;
  }

  open(): Promise<void> {
    return this.inner.open();
  }

  recover(fingerprint: GraphFingerprint, zeroTime: number): Promise<Recovery | undefined> {
    return this.inner.recover(fingerprint, zeroTime);
  }

  logPlan(plan: BatchPlan): Promise<void> {
    return this.inner.logPlan(plan);
  }

  persistsState(batchId: number): boolean {
    return this.inner.persistsState(batchId);
  }

  prepare(commit: PendingCommit): Promise<void> | void {
    return this.inner.prepare(commit);
  }

  async write(plan: BatchPlan, record: CommitRecord, operations: object[]): Promise<void> {
    if (this.#faults.beforeWrite?.(plan.batchId) === true) throw new Error(`injected crash before the atomic write of batch ${plan.batchId}`);
    let written: Promise<void> | undefined;
    const write = (): Promise<void> => (written ??= this.inner.write(plan, record, operations));
    await this.#faults.duringWrite?.(plan.batchId, write);
    await write();
    if (this.#faults.afterWrite?.(plan.batchId) === true) throw new Error(`injected crash after the atomic write of batch ${plan.batchId}`);
  }

  async committed(batchId: number): Promise<void> {
    await this.inner.committed(batchId);
    if (this.#faults.betweenCommitted?.(batchId) === true) throw new Error(`injected crash between the committed calls of batch ${batchId}`);
  }

  aborted(batchId: number): void {
    this.inner.aborted(batchId);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
