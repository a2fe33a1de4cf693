import type { Logger } from 'pino';
import type { Batch } from '../batch.js';
import type { BatchContext, InputRead, ObservedEventTimes, OperatorProgress } from '../batch-context.js';
import { SluiceError } from '../errors.js';
import { RecordErrors } from '../error-policy.js';
import type { BatchPlan } from './batch-plan.js';
import type { Executor, StageProgress } from './executor.js';
import { combineWatermarks, type WatermarkTracker } from '../watermark-tracker.js';
import type { Time } from '../time.js';

/** The {@link BatchContext} of one run of one batch. */
export class BatchContextImpl implements BatchContext {
  readonly batchId: number;
  readonly batchTime: BatchPlan['batchTime'];
  readonly zeroTime: Time;
  readonly processingTime: BatchPlan['processingTime'];
  readonly watermark: BatchPlan['watermark'];
  readonly executor: Executor;
  readonly logger: Logger;
  readonly defaultParallelism: number;
  readonly operators: (OperatorProgress | (() => OperatorProgress))[] = [];
  readonly recordErrors: RecordErrors;
  /** The task figures of the stages an executor reported (none inline). */
  readonly stages: StageProgress[] = [];
  /** What each watermarked stream saw of its records' event times, by node id (for the progress event). */
  readonly eventTimes = new Map<number, ObservedEventTimes>();
  readonly #memo = new Map<number, Promise<Batch<unknown> | undefined>>();
  readonly #inputs: Map<number, InputRead>;
  readonly #plan: BatchPlan;
  readonly #tracker: WatermarkTracker;

  constructor(
    plan: BatchPlan,
    deps: { readonly executor: Executor; readonly logger: Logger; readonly defaultParallelism: number; readonly watermarks: WatermarkTracker; readonly zeroTime: Time },
    inputs: Map<number, InputRead>,
  ) {
    this.#plan = plan;
    this.#tracker = deps.watermarks;
    this.batchId = plan.batchId;
    this.batchTime = plan.batchTime;
    this.zeroTime = deps.zeroTime;
    this.processingTime = plan.processingTime;
    this.watermark = plan.watermark;
    this.executor = deps.executor;
    this.logger = deps.logger;
    this.defaultParallelism = deps.defaultParallelism;
    this.#inputs = inputs;
    this.recordErrors = new RecordErrors(plan.batchId);
  }

  watermarkOf(ids: readonly number[]): Time | undefined {
    const planned = ids.flatMap((id) => {
      const w = this.#plan.watermarks[String(id)];
      return w === undefined ? [] : [w];
    });
    return combineWatermarks(planned, this.#plan.watermarkPolicy) as Time | undefined;
  }

  observeEventTime(id: number, maxEventTime: number | null, observed?: ObservedEventTimes): void {
    this.#tracker.observe(id, maxEventTime, this.processingTime);
    if (observed !== undefined && observed.count > 0) this.eventTimes.set(id, merge(this.eventTimes.get(id), observed));
  }

  reportOperator(progress: OperatorProgress | (() => OperatorProgress)): void {
    this.operators.push(progress);
  }

  reportStage(figures: StageProgress): void {
    this.stages.push(figures);
  }

  memo<T>(id: number, compute: () => Promise<Batch<T> | undefined>): Promise<Batch<T> | undefined> {
    let result = this.#memo.get(id);
    if (result === undefined) {
      result = compute();
      this.#memo.set(id, result);
    }
    return result as Promise<Batch<T> | undefined>;
  }

  /** The batch a stream produced for this batch, if it was computed (never computes it). */
  computed(id: number): Promise<Batch<unknown> | undefined> | undefined {
    return this.#memo.get(id);
  }

  /**
   * Lets go of the batch's records once its outputs have run: the memoized batches and the input
   * read. The commit and the progress event need neither (with the pipelined commit, the next
   * batch computes meanwhile: two batches' records would be held at once).
   */
  releaseRecords(): void {
    this.#memo.clear();
    this.#inputs.clear();
  }

  input(sourceId: number): InputRead {
    const read = this.#inputs.get(sourceId);
    if (read === undefined) {
      throw new SluiceError('INTERNAL_ERROR', `No input was read for source node ${sourceId} in batch ${this.batchId}. This is a bug in Sluice: please report it.`, { batchId: this.batchId });
    }
    return read;
  }
}

/** Two observations of one stream in one batch as one (a stream computes once per batch: rarely more than one). */
function merge(a: ObservedEventTimes | undefined, b: ObservedEventTimes): ObservedEventTimes {
  if (a === undefined) return b;
  const count = a.count + b.count;
  return { count, min: Math.min(a.min, b.min), max: Math.max(a.max, b.max), mean: a.mean + ((b.mean - a.mean) * b.count) / count };
}
