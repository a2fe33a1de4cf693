import type { CommitParticipant } from './commit/commit-participant.js';
import type { BatchPlan } from './scheduler/batch-plan.js';
import type { Offset, WriteAheadLog } from './sources/source.js';
import type { StateBackend, StateDescriptor } from './state-port.js';
import type { WatermarkSnapshot } from './watermark-tracker.js';

/** A stateful operator as a checkpoint records it. */
export interface StatefulOperatorFingerprint extends StateDescriptor {
  /** Its stable id: its name, or `kind#n` where n counts the stateful operators of its kind before it. */
  readonly id: string;
  readonly kind: string;
}

/**
 * What a checkpoint records of the program that writes it, so that a restart keeps state only
 * where it means the same: the batch interval, the sources, and every stateful operator with
 * what its state means. Stateless operators and sinks are not in it: they may change freely.
 */
export interface GraphFingerprint {
  readonly batchIntervalMs: number;
  /** The source names, in registration order. */
  readonly sources: readonly string[];
  /** The stateful operators, in graph order. */
  readonly stateful: readonly StatefulOperatorFingerprint[];
}

/** What a batch's commit records besides the state: where every source stands, and the watermarks. */
export interface CommitRecord {
  readonly batchId: number;
  /**
   * The batch's time, where the next batch's time counts on from (absent in checkpoints written
   * by earlier versions: their batch `k` is at `zeroTime + (k + 1) * batchInterval`).
   */
  readonly batchTime?: number;
  readonly offsets: Readonly<Record<string, Offset>>;
  readonly watermarks: WatermarkSnapshot;
}

/** Where a recovered context resumes. */
export interface Recovery {
  /** The zero time of the first run: batch times continue from it. */
  readonly zeroTime: number;
  /** The commit the state was restored to (sources resume after its offsets), if any. */
  readonly restored: CommitRecord | undefined;
  /** Logged plans after it, replayed in order with their logged offsets, times and watermarks. */
  readonly replay: readonly BatchPlan[];
  /**
   * What an upgraded program changes of the checkpoint (operators whose state starts empty, state
   * dropped, values to migrate), in words for the log; empty for the same program.
   */
  readonly changes?: readonly string[];
}

/**
 * The port through which a checkpoint takes part in the batch life cycle (docs/architecture.md).
 * The core calls it; `sluice/checkpoint` implements it on LevelDB. It is itself a commit
 * participant: it prepares its own operations (log retention, write-ahead-log purges) after the
 * other participants, does the batch's one atomic write, and hears `committed` first.
 */
export interface Checkpointer extends Omit<CommitParticipant, 'initialize'> {
  /** Where the checkpoint lives, for messages (a directory). */
  readonly location: string;
  /**
   * The checkpoint's id, the same across every restart on it, once {@link Checkpointer.open} has
   * resolved; durable before any batch's output runs (a new checkpoint writes it with its first
   * logged plan). Sinks to external systems key their idempotence records by it, so that a new
   * checkpoint is never taken for one whose batches they have already written.
   */
  readonly id?: string | undefined;
  /**
   * The backend that keeps operator state in this checkpoint, so that the state commits in the
   * checkpoint's atomic write. A checkpointed context keeps every operator's state there.
   */
  readonly stateBackend: StateBackend;
  /**
   * The checkpointer this one decorates, if it is a decorator (fault injection in tests, metrics):
   * extensions that work with one implementation (a LevelDB table sink) find it through this chain.
   */
  readonly inner?: Checkpointer;
  /** Opens the checkpoint's storage when the context starts, before anything reads it. */
  open(): Promise<void>;
  /**
   * Says where a program with this fingerprint resumes (`undefined`: a fresh checkpoint).
   *
   * @throws SluiceError `CHECKPOINT_INCOMPATIBLE` or `CHECKPOINT_CORRUPT`.
   */
  recover(fingerprint: GraphFingerprint, zeroTime: number): Promise<Recovery | undefined>;
  /** Makes the batch's plan durable before it computes (the offset log). */
  logPlan(plan: BatchPlan): Promise<void>;
  /** Whether the commit of `batchId` persists state (see `PendingCommit.persistsState`). */
  persistsState(batchId: number): boolean;
  /**
   * The batch's one atomic write: its commit record with every operation the participants gave
   * (`operations`, in the order given: an array the checkpointer may extend). Durable when it
   * resolves; nothing of it is when it rejects.
   */
  write(plan: BatchPlan, record: CommitRecord, operations: object[]): Promise<void>;
  /** The write-ahead log for the push source `source`, if the checkpoint keeps one. */
  writeAheadLog?(source: string): WriteAheadLog;
  /** Closes the storage when the context stops. */
  close(): Promise<void>;
}

/**
 * Where and how a context checkpoints: given as the `checkpoint` option of a `StreamingContext`,
 * which creates its checkpointer from it. `levelCheckpoint(directory, options)` of
 * `sluice/checkpoint` is the built-in one. One storage can serve several contexts one after the
 * other (each creates its own checkpointer); two running at once on one storage is an error of
 * the storage's own.
 */
export interface CheckpointStorage {
  /** Where the checkpoint lives, for messages (a directory). */
  readonly location: string;
  /** Creates the checkpointer of one context, given the context's defaults. */
  createCheckpointer(context?: CheckpointSettings): Checkpointer;
}

/** What a context passes its checkpoint storage: defaults that the storage's own options override. */
export interface CheckpointSettings {
  /** The context's `stateCacheSize`: state entries each operator's cache keeps at most. */
  readonly stateCacheSize?: number;
  /** The context's `stateCacheBytes`: the bytes the operators' state caches hold together. */
  readonly stateCacheBytes?: number;
}
