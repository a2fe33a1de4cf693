import type { CommitParticipant } from './commit/commit-participant.js';
import type { Time } from './time.js';

/** How a stream's watermark follows its event times (set by `withWatermark`). */
export interface WatermarkPolicy {
  /** How far behind the largest event time seen the watermark stays, in ms. */
  readonly delay: number;
  /** After this long (ms of processing time) without records, the input is idle: it no longer holds the watermark back. */
  readonly idleTimeout: number | undefined;
}

/**
 * How an operator that reads several watermarked streams, and the global watermark, combine their
 * watermarks (Structured Streaming's `spark.sql.streaming.multipleWatermarkPolicy`): `'min'`
 * follows the slowest active stream, `'max'` the fastest. See {@link combineWatermarks}.
 */
export type MultipleWatermarkPolicy = 'min' | 'max';

/** The committed watermark state of a context, for checkpoints: per node id, and the global one. */
export interface WatermarkSnapshot {
  readonly streams: Readonly<Record<string, { readonly maxEventTime: number | null; readonly watermark: number | null; readonly lastDataAt: number | null }>>;
  readonly global: number | null;
  /**
   * The policy the watermarks were combined with. A restart keeps it (see
   * {@link WatermarkTracker.setPolicy}). Absent without watermarked streams, and in checkpoints
   * written before the policy was recorded, which combined by `'min'`.
   */
  readonly policy?: MultipleWatermarkPolicy;
}

/** One watermarked stream's watermark as recorded in a batch plan. */
export interface PlannedWatermark {
  /** The watermark in ms, or null before the stream has seen an event. */
  readonly value: number | null;
  /** Whether the stream is idle (excluded from minimums while others are active). */
  readonly idle: boolean;
}

interface Tracked {
  readonly policy: WatermarkPolicy;
  /** Committed: the largest event time seen, the watermark, when records last arrived. */
  maxEventTime: number | null;
  watermark: number | null;
  lastDataAt: number | null;
  /** Staged by the running batch. */
  stagedMax: number | null;
  stagedData: boolean;
  stagedProcessingTime: number | null;
}

/**
 * The event-time watermarks of a context (docs/architecture.md): for each watermarked stream,
 * `W = max event time seen - delay`, computed at the end of batch k and used by batch k + 1,
 * never decreasing; several combine by the {@link MultipleWatermarkPolicy} (`'min'` unless set),
 * and an input without records for its idle timeout counts for neither policy. What a batch uses
 * is fixed in its plan (the policy too), so a replay sees the same watermarks.
 *
 * It takes part in every batch's commit: what a batch observed moves the watermarks when the
 * batch has committed, and is dropped when it fails.
 */
export class WatermarkTracker implements CommitParticipant {
  readonly name = 'watermarks';
  readonly #tracked = new Map<number, Tracked>();
  #global: number | null = null;
  #policy: MultipleWatermarkPolicy = 'min';
  /** The batch handed off whose `committed` is still to come. */
  #handedOff: number | undefined;

  /** How several watermarks combine (default `'min'`): the context's option, or its checkpoint's. */
  get policy(): MultipleWatermarkPolicy {
    return this.#policy;
  }

  /**
   * Sets how several watermarks combine from the next plan on: the context's `watermarkPolicy`
   * option when it is built, then the checkpoint's own when it resumes one.
   */
  setPolicy(policy: MultipleWatermarkPolicy): void {
    this.#policy = policy;
  }

  /**
   * Registers the watermarked stream with node id `id`. Its batches must carry each record's event
   * time (`Batch.eventTimes`): downstream operators read the times from there.
   */
  register(id: number, policy: WatermarkPolicy): void {
    this.#tracked.set(id, { policy, maxEventTime: null, watermark: null, lastDataAt: null, stagedMax: null, stagedData: false, stagedProcessingTime: null });
  }

  /** The committed state. */
  snapshot(): WatermarkSnapshot {
    const streams: Record<string, { maxEventTime: number | null; watermark: number | null; lastDataAt: number | null }> = {};
    for (const [id, t] of this.#tracked) streams[String(id)] = { maxEventTime: t.maxEventTime, watermark: t.watermark, lastDataAt: t.lastDataAt };
    return { streams, global: this.#global, ...this.#recordedPolicy() };
  }

  /** The state as it will be once the running batch commits: what its commit record carries. */
  pendingSnapshot(): WatermarkSnapshot {
    const streams: Record<string, { maxEventTime: number | null; watermark: number | null; lastDataAt: number | null }> = {};
    for (const [id, t] of this.#tracked) streams[String(id)] = next(t);
    return { streams, global: this.#global, ...this.#recordedPolicy() };
  }

  /** The policy as snapshots record it: only with watermarked streams, for which alone it means something. */
  #recordedPolicy(): { readonly policy?: MultipleWatermarkPolicy } {
    return this.#tracked.size === 0 ? {} : { policy: this.#policy };
  }

  /**
   * Restores a {@link WatermarkTracker.snapshot} (streams it does not know are ignored). The
   * policy is not restored here: the recovery sets it ({@link WatermarkTracker.setPolicy}).
   */
  restore(snapshot: WatermarkSnapshot): void {
    for (const [id, saved] of Object.entries(snapshot.streams)) {
      const t = this.#tracked.get(Number(id));
      if (t === undefined) continue;
      t.maxEventTime = saved.maxEventTime;
      t.watermark = saved.watermark;
      t.lastDataAt = saved.lastDataAt;
    }
    this.#global = snapshot.global;
  }

  /** Whether any stream of the context has a watermark. */
  get active(): boolean {
    return this.#tracked.size > 0;
  }

  /** Whether node `id` is a watermarked stream. */
  has(id: number): boolean {
    return this.#tracked.has(id);
  }

  /**
   * The watermarks for a batch planned at `processingTime`, and the global one: all of them
   * combined by the policy ({@link combineWatermarks}), never below the global one planned before.
   */
  plan(processingTime: number, zeroTime: number): { readonly watermarks: Readonly<Record<string, PlannedWatermark>>; readonly global: Time | undefined } {
    const watermarks: Record<string, PlannedWatermark> = {};
    for (const [id, t] of this.#tracked) {
      const timeout = t.policy.idleTimeout;
      const idle = timeout !== undefined && processingTime - (t.lastDataAt ?? zeroTime) >= timeout;
      watermarks[String(id)] = { value: t.watermark, idle };
    }
    const combined = combineWatermarks(Object.values(watermarks), this.#policy);
    if (combined !== undefined) this.#global = Math.max(this.#global ?? combined, combined);
    return { watermarks, global: (this.#global ?? undefined) as Time | undefined };
  }

  /**
   * The watermarks of a final batch (Flink's `MAX_WATERMARK` at the end of input): every stream's,
   * and the global one, at {@link FINAL_WATERMARK}, past every event time, so that every event-time
   * window, timer and TTL fires. Only the plan carries it: the committed watermarks stay what the
   * data made them.
   */
  finalPlan(): { readonly watermarks: Readonly<Record<string, PlannedWatermark>>; readonly global: Time | undefined } {
    const watermarks: Record<string, PlannedWatermark> = {};
    for (const id of this.#tracked.keys()) watermarks[String(id)] = { value: FINAL_WATERMARK, idle: false };
    return { watermarks, global: this.#tracked.size === 0 ? undefined : (FINAL_WATERMARK as Time) };
  }

  /** Stages the largest event time of a batch's records for node `id` (none: `null`). */
  observe(id: number, maxEventTime: number | null, processingTime: number): void {
    const t = this.#tracked.get(id);
    if (t === undefined) return;
    if (maxEventTime !== null) t.stagedMax = Math.max(t.stagedMax ?? maxEventTime, maxEventTime);
    t.stagedData ||= maxEventTime !== null;
    if (t.stagedData) t.stagedProcessingTime = processingTime;
  }

  /** Nothing to write: the watermarks go in the commit record ({@link WatermarkTracker.pendingSnapshot}). */
  prepare(): void {
    // The commit record carries the pending snapshot.
  }

  /** The batch committed: its observations move the watermarks (never backwards), unless it was handed off. */
  committed(batchId?: number): void {
    if (batchId !== undefined && this.#handedOff === batchId) {
      this.#handedOff = undefined;
      return;
    }
    this.#settle();
  }

  /**
   * Pipelined commit: the batch's observations move the watermarks now, so that the next batch is
   * planned on them (its commit record already carries them); `committed` then has nothing left.
   */
  handOff(batchId: number): void {
    this.#settle();
    this.#handedOff = batchId;
  }

  #settle(): void {
    for (const t of this.#tracked.values()) {
      const moved = next(t);
      t.maxEventTime = moved.maxEventTime;
      t.watermark = moved.watermark;
      t.lastDataAt = moved.lastDataAt;
      clearStaged(t);
    }
  }

  /** The batch failed: its observations are dropped. */
  aborted(): void {
    this.#handedOff = undefined;
    for (const t of this.#tracked.values()) clearStaged(t);
  }
}

/**
 * The watermark of a final batch: the largest time a `Date` can hold (about 275 760 years after
 * 1970), past every event time, and far enough below `Number.MAX_SAFE_INTEGER` that a deadline
 * `watermark + duration` stays an exact integer for any duration under about 11 000 years.
 */
export const FINAL_WATERMARK = 8_640_000_000_000_000;

/** A stream's committed state once its staged observations are applied. */
function next(t: Tracked): { maxEventTime: number | null; watermark: number | null; lastDataAt: number | null } {
  let { maxEventTime, watermark, lastDataAt } = t;
  if (t.stagedMax !== null) {
    maxEventTime = Math.max(maxEventTime ?? t.stagedMax, t.stagedMax);
    const moved = maxEventTime - t.policy.delay;
    watermark = Math.max(watermark ?? moved, moved);
  }
  if (t.stagedData) lastDataAt = t.stagedProcessingTime ?? lastDataAt;
  return { maxEventTime, watermark, lastDataAt };
}

function clearStaged(t: Tracked): void {
  t.stagedMax = null;
  t.stagedData = false;
  t.stagedProcessingTime = null;
}

/**
 * The watermark of several inputs. By `'min'` (the default): the minimum over the active ones,
 * `undefined` while an active input has seen no event. By `'max'`: the maximum over the active
 * ones that have seen an event, `undefined` while none has. Idle inputs count for neither, unless
 * all are idle: then, by either policy, the maximum of their known watermarks.
 */
export function combineWatermarks(inputs: readonly PlannedWatermark[], policy: MultipleWatermarkPolicy = 'min'): number | undefined {
  if (inputs.length === 0) return undefined;
  const active = inputs.filter((w) => !w.idle);
  if (active.length === 0 || policy === 'max') {
    let max: number | undefined;
    for (const w of active.length === 0 ? inputs : active) if (w.value !== null) max = Math.max(max ?? w.value, w.value);
    return max;
  }
  let min = Number.POSITIVE_INFINITY;
  for (const w of active) {
    if (w.value === null) return undefined;
    min = Math.min(min, w.value);
  }
  return min;
}
