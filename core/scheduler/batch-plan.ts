import type { Offset } from '../sources/source.js';
import type { Time } from '../time.js';
import type { MultipleWatermarkPolicy, PlannedWatermark } from '../watermark-tracker.js';

/** The range one source contributes to a batch. */
export interface SourceRange {
  readonly source: string;
  readonly start: Offset;
  readonly end: Offset;
  /** The record limit backpressure set on the range, when it set one (a record of the decision; a replay reads `start` to `end`). */
  readonly limit?: number;
}

/**
 * Everything a batch depends on that is not in its input, fixed before the batch computes: a
 * re-run of the same plan gives the same results (docs/architecture.md).
 */
export interface BatchPlan {
  readonly batchId: number;
  readonly batchTime: Time;
  /** The processing time read from the clock when the batch was planned. */
  readonly processingTime: Time;
  /**
   * The global event-time watermark: the watermarked streams' combined by the policy (none until
   * one has).
   */
  readonly watermark: Time | undefined;
  /** Each watermarked stream's watermark, by node id. */
  readonly watermarks: Readonly<Record<string, PlannedWatermark>>;
  /**
   * How operators that read several watermarked streams combine their watermarks in this batch
   * (the context's `watermarkPolicy`). Absent without watermarked streams, and in plans logged
   * before it was recorded, which combined by `'min'`.
   */
  readonly watermarkPolicy?: MultipleWatermarkPolicy;
  readonly ranges: readonly SourceRange[];
}
