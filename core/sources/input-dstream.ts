import { Batch } from '../batch.js';
import type { BatchContext } from '../batch-context.js';
import { DStream } from '../dstream.js';
import type { DStreamGraph } from '../graph.js';
import type { BadRecord, Source } from './source.js';

/** What happens to a record its source cannot parse. */
export type BadRecordPolicy = 'fail' | 'deadLetter';

/** Options for registering a source. */
export interface InputOptions {
  /** A stable name for the source, used in offsets, progress events and logs (default `kind-n`). */
  readonly name?: string;
  /** The most records one batch takes from this source (default: no limit). */
  readonly maxRecordsPerBatch?: number;
  /**
   * What to do with records the source cannot parse: `'fail'` (default) fails the batch with
   * `BAD_RECORD`; `'deadLetter'` sends them to `input.deadLetters`. Both count them in the
   * batch's progress event.
   */
  readonly badRecords?: BadRecordPolicy;
  /** Partitions of each batch read from this source (default: the context's `defaultParallelism`). */
  readonly numPartitions?: number;
  /**
   * Whether backpressure limits this source's batches (default: the context's `backpressure`
   * option; with the context's off, `true` turns it on for this source with the default settings).
   */
  readonly backpressure?: boolean;
}

/** A stream read from a source; also the handle to the source's dead letters. */
export class InputDStream<T> extends DStream<T> {
  /** The source. */
  readonly source: Source<T>;
  /** The source's stable name. */
  readonly sourceName: string;
  /** The most records a batch takes from the source. */
  readonly maxRecordsPerBatch: number;
  /** The bad-record policy. */
  readonly badRecordPolicy: BadRecordPolicy;
  /** Partitions of each batch, if set. */
  readonly numPartitions: number | undefined;
  /** The source's own backpressure option, if set. */
  readonly backpressure: boolean | undefined;
  #deadLetters: DStream<BadRecord> | undefined;

  constructor(graph: DStreamGraph, source: Source<T>, sourceName: string, options: InputOptions) {
    super({ kind: source.kind, graph, parents: [], name: sourceName });
    this.source = source;
    this.sourceName = sourceName;
    this.maxRecordsPerBatch = options.maxRecordsPerBatch ?? Number.POSITIVE_INFINITY;
    this.badRecordPolicy = options.badRecords ?? 'fail';
    this.numPartitions = options.numPartitions;
    this.backpressure = options.backpressure;
  }

  protected override compute(bc: BatchContext): Batch<T> {
    return bc.input(this.id).batch as Batch<T>;
  }

  /**
   * The records this source could not parse, one batch per batch, when the policy is
   * `'deadLetter'`. Define outputs on it like on any stream.
   */
  get deadLetters(): DStream<BadRecord> {
    this.#deadLetters ??= new DeadLetterDStream(this);
    return this.#deadLetters;
  }
}

class DeadLetterDStream extends DStream<BadRecord> {
  readonly #input: InputDStream<unknown>;

  constructor(input: InputDStream<unknown>) {
    super({ kind: 'deadLetters', graph: input.graph, parents: [], name: `${input.sourceName}.deadLetters` });
    this.#input = input;
  }

  protected override compute(bc: BatchContext): Batch<BadRecord> {
    return Batch.of(bc.input(this.#input.id).badRecords);
  }
}
