import type { Batch } from '../batch.js';
import type { BatchContext } from '../batch-context.js';
import type { DStream } from '../dstream.js';
import type { GraphOutput } from '../graph.js';
import { namingOperator } from '../operator-error.js';
import type { Time } from '../time.js';

/** What an output function learns about the batch it is given. */
export interface BatchInfo {
  /** The batch id: the same on a replay of the batch, so writes keyed by it are idempotent. */
  readonly batchId: number;
  /** The batch time in ms. */
  readonly batchTime: Time;
}

/** Writes one batch of a stream somewhere. */
export type OutputWriter<T> = (batch: Batch<T>, info: BatchInfo, bc: BatchContext) => Promise<void> | void;

/**
 * An output operation: the end of a chain, which turns the graph into one job per batch. Jobs run
 * in the order the output operations were defined.
 */
export class OutputOperation<T> implements GraphOutput {
  /** The stream this output reads. */
  readonly stream: DStream<T>;
  /** `kind#n`, or the user-given name: how errors and logs name this output. */
  readonly describe: string;
  readonly #write: OutputWriter<T>;

  constructor(kind: string, stream: DStream<T>, write: OutputWriter<T>, name?: string) {
    this.stream = stream;
    this.describe = name ?? `${kind}#${stream.graph.outputs.length}`;
    this.#write = write;
    stream.graph.addOutput(this);
  }

  /** Runs this output's job for one batch: computes the stream, then writes its batch if any. */
  async run(bc: BatchContext): Promise<void> {
    const batch = await this.stream.getOrCompute(bc);
    if (batch === undefined) return;
    try {
      await this.#write(batch, { batchId: bc.batchId, batchTime: bc.batchTime }, bc);
    } catch (error) {
      throw namingOperator(error, this.describe);
    }
  }
}
