import type { Offset } from '../sources/source.js';
import type { Time } from '../time.js';

/** The range one source contributes to a batch. */
export interface SourceRange {
  readonly source: string;
  readonly start: Offset;
  readonly end: Offset;
}

/**
 * Everything a batch depends on that is not in its input, fixed before the batch computes: a
 * re-run of the same plan gives the same results (ARCHITECTURE section 4).
 */
export interface BatchPlan {
  readonly batchId: number;
  readonly batchTime: Time;
  /** The processing time read from the clock when the batch was planned. */
  readonly processingTime: Time;
  /** The event-time watermark the batch uses (none until a stream defines one). */
  readonly watermark: Time | undefined;
  readonly ranges: readonly SourceRange[];
}
