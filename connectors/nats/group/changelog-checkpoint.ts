import { SluiceError, type JobPartition, type Key } from 'sluice';
import type { BatchPlan, CheckpointSettings, CheckpointStorage, Checkpointer, CommitRecord, GraphFingerprint, PendingCommit, Recovery, StoreKey, WriteAheadLog } from 'sluice/extend';
import type { ChangelogStream, StateChange } from './changelog-stream.js';
import type { PartitionCopy } from './partition-copy.js';
import { RecordingBackend } from './recording-backend.js';

/*
 * The checkpoint of one partition of a group: the instance's local checkpoint (LevelDB), with
 * every commit also written to the partition's changelog in JetStream, so that whichever
 * instance runs the partition next starts where the last one committed.
 *
 * Order, for batch k of partition p (the changelog is never behind the local checkpoint):
 * 1. logPlan: ownership checked, the plan logged to the changelog, then locally. An owner that
 *    dies before committing k leaves the plan to its successor, which replays k with it: the
 *    outputs already written for (p, k) and the replay's agree, record for record.
 * 2. write: ownership checked, k's state changes and its commit record appended to the changelog
 *    (with the committed marker), then the local atomic write.
 *
 * Recovery: the changelog's last committed batch C against the local checkpoint's L. L = C: the
 * local checkpoint is current and is used. A fresh local checkpoint: the state as of C is
 * staged in the stores (it commits with the first batch), the sources resume after C's offsets,
 * and C's logged successors are replayed. L < C: the local copy is stale (another instance ran
 * the partition since); the runner deletes it and starts again on a fresh one.
 */

/** The changelog key of a batch's commit record; state keys are `[operator, store key]` arrays. */
const COMMIT_KEY = 'commit';

/** What the changelog keeps of a commit besides the state: where the partition resumes. */
interface LoggedCommit {
  readonly record: CommitRecord;
  readonly zeroTime: number;
}

/** A local checkpoint older than the changelog: the runner deletes it and starts again. */
export class StaleLocalCheckpoint extends Error {
  constructor(location: string, local: number, shared: number, cause?: unknown) {
    super(cause === undefined ? `The local checkpoint at ${location} ends at batch ${local}, the changelog at ${shared}: another instance ran the partition since.` : `The local checkpoint at ${location} cannot be read; the changelog has the partition up to batch ${shared}.`, cause === undefined ? undefined : { cause });
    this.name = 'StaleLocalCheckpoint';
  }
}

/** What {@link changelogCheckpoint} needs besides the local checkpoint. */
export interface ChangelogCheckpointOptions {
  /** The group's changelog stream. */
  readonly changelog: ChangelogStream;
  /** The partition the context runs, whose ownership is checked before each plan and commit is logged. */
  readonly partition: JobPartition;
  /**
   * A standby replica's warm copy of the partition's changelog (`ChangelogStream.standbyCopy`):
   * the restore catches it up and reads only the messages after its last one, instead of the
   * whole changelog (a copy that is refused is set aside and the whole changelog read).
   */
  readonly standby?: PartitionCopy;
  /**
   * Hears where the partition resumed: its local checkpoint, the changelog, a standby's warm copy
   * caught up, or nothing (a fresh partition); the last batch committed (-1 for none); and how
   * many changelog messages the restore read.
   */
  readonly onRecovered?: (from: 'local' | 'changelog' | 'standby' | 'fresh', batchId: number, read: number) => void;
}

/**
 * Decorates the local checkpoint `local` of a partition of a group: the partition's plans and
 * commits go to its changelog too, and a context on a fresh local checkpoint restores the
 * partition from the changelog. The checkpoint's id is `<group>.p<partition>` on every
 * instance, so sinks that key their idempotence by it (the JetStream sink's message ids) are
 * idempotent by `(partition, batchId)` across instances.
 */
export function changelogCheckpoint(local: CheckpointStorage, options: ChangelogCheckpointOptions): CheckpointStorage {
  return {
    location: local.location,
    createCheckpointer: (settings?: CheckpointSettings) => new ChangelogCheckpointer(local.createCheckpointer(settings), options),
  };
}

class ChangelogCheckpointer implements Checkpointer {
  readonly inner: Checkpointer;
  readonly stateBackend: RecordingBackend;
  readonly id: string;
  readonly writeAheadLog?: (source: string) => WriteAheadLog;
  readonly #log: ChangelogStream;
  readonly #partition: JobPartition;
  readonly #onRecovered: NonNullable<ChangelogCheckpointOptions['onRecovered']>;
  readonly #standby: PartitionCopy | undefined;
  #zeroTime = 0;

  constructor(inner: Checkpointer, options: ChangelogCheckpointOptions) {
    this.inner = inner;
    this.#log = options.changelog;
    this.#partition = options.partition;
    this.#onRecovered = options.onRecovered ?? (() => undefined);
    this.#standby = options.standby;
    this.id = `${options.partition.group}.p${options.partition.index}`;
    this.stateBackend = new RecordingBackend(inner.stateBackend);
    if (inner.writeAheadLog !== undefined) this.writeAheadLog = (source) => (inner.writeAheadLog as (source: string) => WriteAheadLog)(source);
  }

  get location(): string {
    return this.inner.location;
  }

  get name(): string {
    return `${this.inner.name} with changelog ${this.#log.stream}`;
  }

  open(): Promise<void> {
    return this.inner.open();
  }

  /**
   * @throws StaleLocalCheckpoint when the local checkpoint is behind the changelog;
   * SluiceError `CHECKPOINT_INCOMPATIBLE` when it is ahead of it (the changelog was lost).
   */
  async recover(fingerprint: GraphFingerprint, zeroTime: number): Promise<Recovery | undefined> {
    const p = this.#partition.index;
    const shared = await this.#log.restore(p, this.#standby);
    const commit = shared.entries.find(([key]) => key === COMMIT_KEY)?.[1] as LoggedCommit | undefined;
    this.#zeroTime = commit?.zeroTime ?? zeroTime;
    let local: Recovery | undefined;
    try {
      local = await this.inner.recover(fingerprint, this.#zeroTime);
    } catch (error) {
      // The local checkpoint is a copy of the changelog's: a damaged one is replaced from it.
      if (shared.batchId < 0 || (error as { code?: unknown }).code !== 'CHECKPOINT_CORRUPT') throw error;
      throw new StaleLocalCheckpoint(this.location, -1, shared.batchId, error);
    }
    const localBatch = local?.restored?.batchId ?? -1;
    const plans = shared.plans.map((logged) => logged.plan as BatchPlan);
    if (localBatch > shared.batchId) {
      throw new SluiceError('CHECKPOINT_INCOMPATIBLE', `The local checkpoint at ${this.location} has committed batch ${localBatch} of partition ${p}, but the changelog ${this.#log.stream} only ${shared.batchId}: the changelog was deleted or replaced. Delete the local checkpoints of the group's instances to start the partition again, or give back the changelog.`);
    }
    if (local !== undefined && localBatch < shared.batchId) {
      throw new StaleLocalCheckpoint(this.location, localBatch, shared.batchId);
    }
    // The changelog's plans win over a local copy's: another owner's outputs were computed from them.
    for (const plan of plans) await this.inner.logPlan(plan);
    if (local !== undefined) {
      this.#zeroTime = local.zeroTime;
      this.#onRecovered('local', localBatch, shared.read);
      return plans.length === 0 ? local : { ...local, replay: plans };
    }
    if (shared.batchId < 0 || commit === undefined) {
      this.#onRecovered('fresh', -1, shared.read);
      return plans.length === 0 ? undefined : { zeroTime: this.#zeroTime, restored: undefined, replay: plans };
    }
    const byOperator = new Map<string, (readonly [StoreKey, unknown])[]>();
    for (const [key, value] of shared.entries) {
      if (!Array.isArray(key)) continue;
      const [operator, storeKey] = key as [string, StoreKey];
      let rows = byOperator.get(operator);
      if (rows === undefined) byOperator.set(operator, (rows = []));
      rows.push([storeKey, value]);
    }
    this.stateBackend.seed(byOperator);
    this.#onRecovered(shared.from, shared.batchId, shared.read);
    return { zeroTime: this.#zeroTime, restored: commit.record, replay: plans };
  }

  async logPlan(plan: BatchPlan): Promise<void> {
    const epoch = await this.#partition.assertOwner();
    await this.#log.appendPlan(this.#partition.index, plan.batchId, epoch, plan);
    await this.inner.logPlan(plan);
  }

  persistsState(batchId: number): boolean {
    return this.inner.persistsState(batchId);
  }

  prepare(commit: PendingCommit): Promise<void> | void {
    return this.inner.prepare(commit);
  }

  async write(plan: BatchPlan, record: CommitRecord, operations: object[]): Promise<void> {
    await this.#partition.assertOwner();
    const changes: StateChange[] = this.stateBackend.takeChanges();
    changes.push({ key: COMMIT_KEY as Key, value: { record, zeroTime: this.#zeroTime } satisfies LoggedCommit });
    await this.#log.append(this.#partition.index, plan.batchId, changes);
    await this.inner.write(plan, record, operations);
  }

  committed(batchId: number): Promise<void> | void {
    return this.inner.committed(batchId);
  }

  handOff(batchId: number): void {
    this.inner.handOff?.(batchId);
  }

  aborted(batchId: number): void {
    this.stateBackend.dropChanges();
    this.inner.aborted(batchId);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
