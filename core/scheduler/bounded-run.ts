import { DEFAULT_BOUNDED_BATCH_RECORDS, type RunSummary, type RunToCompletionOptions } from '../context-options.js';
import type { BatchProgress } from '../events.js';
import type { DStreamGraph } from '../graph.js';
import { InputDStream } from '../sources/input-dstream.js';
import type { Time } from '../time.js';
import type { PlanOptions } from './batch-runner.js';
import type { BatchKind } from './job-generator.js';

/**
 * Checks that every source of the graph can end, before anything starts.
 *
 * @throws TypeError naming the first source that cannot (it has no `prepareForBoundedRun`).
 */
export function checkBoundedSources(graph: DStreamGraph): void {
  for (const node of graph.nodes) {
    if (!(node instanceof InputDStream) || typeof node.source.prepareForBoundedRun === 'function') continue;
    throw new TypeError(
      `StreamingContext.runToCompletion: source ${node.sourceName} (${node.source.kind}) cannot end, so a bounded run would never finish. Run the job with start() (and stop() it), or read the data from a source that ends: files (textFileStream), an iterable, a rate source with totalRows; a custom source ends by implementing prepareForBoundedRun.`,
    );
  }
}

/** One bounded run (`StreamingContext.runToCompletion`): how it plans its batches, and what it counts. */
export class BoundedRun {
  /** Whether the run ends with the final batch. */
  readonly flush: boolean;
  readonly #maxRecords: number;
  #batches = 0;
  #records = 0;
  #lastBatchId: number | undefined;
  #interrupted = false;

  /** @throws TypeError or RangeError for bad options. */
  constructor(options: RunToCompletionOptions) {
    if (typeof options !== 'object' || options === null) {
      throw new TypeError('StreamingContext.runToCompletion: pass an options object such as { maxRecordsPerBatch: 10000 }, or nothing.');
    }
    const max = options.maxRecordsPerBatch ?? DEFAULT_BOUNDED_BATCH_RECORDS;
    if (!(Number.isInteger(max) && max >= 1)) {
      throw new RangeError(`StreamingContext.runToCompletion: maxRecordsPerBatch must be a positive integer, got ${max}.`);
    }
    if (options.flush !== undefined && typeof options.flush !== 'boolean') {
      throw new TypeError(`StreamingContext.runToCompletion: flush must be true or false, got ${JSON.stringify(options.flush)}.`);
    }
    this.#maxRecords = max;
    this.flush = options.flush ?? true;
  }

  /** Makes every source end at what it has now (sources started, before the first new batch). */
  async prepare(inputs: readonly InputDStream<unknown>[]): Promise<void> {
    for (const input of inputs) await input.source.prepareForBoundedRun?.();
  }

  /** A bounded batch's plan: cut by records, processing time = batch time. */
  planOptions(batchTime: Time, kind: BatchKind): PlanOptions {
    return { processingTime: batchTime, maxRecords: this.#maxRecords, final: kind === 'final', backpressure: false };
  }

  /** Counts a completed batch. */
  count(progress: BatchProgress): void {
    this.#batches += 1;
    this.#records += progress.numInputRecords;
    this.#lastBatchId = progress.batchId;
  }

  /** `stop()` ended the run before its sources did. */
  interrupt(): void {
    this.#interrupted = true;
  }

  /** What the run did. */
  summary(): RunSummary {
    return { batches: this.#batches, records: this.#records, lastBatchId: this.#lastBatchId, completed: !this.#interrupted };
  }
}
