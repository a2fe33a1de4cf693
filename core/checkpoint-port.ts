import type { BatchPlan } from './scheduler/batch-plan.js';
import type { DStreamGraph } from './graph.js';
import { serviceKey } from './services.js';
import type { Offset, WriteAheadLog } from './sources/source.js';
import type { WatermarkSnapshot } from './watermark-tracker.js';

/** What identifies a program's graph, so a checkpoint is only ever resumed by the same program. */
export interface GraphFingerprint {
  readonly batchIntervalMs: number;
  /** Every node, in graph order: its id (name or `kind#position`) and kind. */
  readonly operators: readonly { readonly id: string; readonly kind: string }[];
  /** The source names, in registration order. */
  readonly sources: readonly string[];
}

/** What a batch's commit records besides the state: where every source stands, and the watermarks. */
export interface CommitRecord {
  readonly batchId: number;
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
}

/**
 * The port through which a checkpoint takes part in the batch life cycle (ARCHITECTURE section 4).
 * The core calls it; `sluice/checkpoint` implements it on LevelDB.
 */
export interface Checkpointer {
  /**
   * Opens the checkpoint for a program with this fingerprint and says where to resume
   * (`undefined`: a fresh checkpoint).
   *
   * @throws SluiceError `CHECKPOINT_INCOMPATIBLE` or `CHECKPOINT_CORRUPT`.
   */
  recover(fingerprint: GraphFingerprint, zeroTime: number): Promise<Recovery | undefined>;
  /** Makes the batch's plan durable before it computes (the offset log). */
  logPlan(plan: BatchPlan): Promise<void>;
  /** Commits the batch atomically: its commit record with every staged state change and sink row. */
  commit(plan: BatchPlan, record: CommitRecord): Promise<void>;
  /** A commit failed or the batch failed: drop what was staged for it. */
  abort(batchId: number): void;
  /** The write-ahead log for the push source `source`, if the checkpoint keeps one. */
  writeAheadLog?(source: string): WriteAheadLog;
}

/** The service key under which a context's checkpointer is registered. */
export const CHECKPOINTER = serviceKey<Checkpointer>('checkpointer');

/** Builds a checkpointer for a context, given its checkpoint options (registered by `sluice/checkpoint`). */
export type CheckpointerFactory = (graph: DStreamGraph, options: { readonly directory: string; readonly interval: number }) => void;

let factory: CheckpointerFactory | undefined;

/** Registers how `new StreamingContext({ checkpoint })` creates its checkpointer (done by `sluice/checkpoint`). */
export function registerCheckpointerFactory(create: CheckpointerFactory): void {
  factory = create;
}

/** The registered factory, if `sluice/checkpoint` was loaded. */
export function checkpointerFactory(): CheckpointerFactory | undefined {
  return factory;
}
