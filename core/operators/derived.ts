import type { Batch } from '../batch.js';
import type { BatchContext } from '../batch-context.js';
import { DStream } from '../dstream.js';
import { SluiceError } from '../errors.js';
import { userFunctionFailed } from '../operator-error.js';

/** Computes a stream's batch from its parents' batches. */
export type DeriveBatch<T> = (
  inputs: readonly Batch<unknown>[],
  bc: BatchContext,
  operator: string,
) => Promise<Batch<T> | undefined> | Batch<T> | undefined;

/**
 * A stream computed batch-wise from the batches of its parents by a function: the shape of every
 * operator that is not a per-record step (union, reduceByKey, join, transform, ...). Between its
 * slides (a windowed input's batch times that are not slide times) it produces nothing where any
 * parent produced nothing. At a slide time every parent must give a batch.
 *
 * @throws TypeError when the parents belong to different contexts or slide at different
 * intervals (as Spark requires of union, transformWith, cogroup and the joins).
 * @throws SluiceError `BATCH_FAILED` (failing the batch) when a parent gives no batch at a slide
 * time (Spark's "Could not generate RDD from a parent"), naming the operator, the parent and the
 * batch time, rather than silently producing nothing.
 */
export class DerivedDStream<T> extends DStream<T> {
  readonly #derive: DeriveBatch<T>;

  constructor(kind: string, parents: readonly DStream<unknown>[], derive: DeriveBatch<T>, name?: string) {
    const first = parents[0];
    if (first === undefined) throw new TypeError(`${kind}: needs at least one input stream.`);
    checkSameSlide(kind, first, parents);
    super({ kind, graph: first.graph, parents, name });
    this.#derive = derive;
  }

  protected override async compute(bc: BatchContext): Promise<Batch<T> | undefined> {
    // Every parent computes every batch, even when another has nothing at this time: a windowed
    // parent must see each batch to keep its window.
    const inputs: (Batch<unknown> | undefined)[] = [];
    for (const parent of this.parents) inputs.push(await parent.getOrCompute(bc));
    const missing = inputs.indexOf(undefined);
    if (missing >= 0) {
      if (((bc.batchId + 1) * this.graph.batchInterval) % this.slideDuration !== 0) return undefined;
      throw noParentBatch(this, this.parents[missing] as DStream<unknown>, bc);
    }
    return this.#derive(inputs as Batch<unknown>[], bc, this.describe);
  }
}

/** The error of a parent that gave no batch at a time its consumer needs one. */
function noParentBatch(operator: DStream<unknown>, parent: DStream<unknown>, bc: BatchContext): SluiceError {
  const every = parent.slideDuration === operator.graph.batchInterval ? 'every batch' : `every ${parent.slideDuration} ms (its slide)`;
  return new SluiceError(
    'BATCH_FAILED',
    `its input ${parent.describe} gave no batch at batch time ${bc.batchTime}, so ${operator.kind} could not compute one (Spark's "Could not generate RDD from a parent"). A stream must give a batch ${every}: a DStream of your own whose compute returns undefined there should return an empty batch (Batch.empty()) instead`,
    { operator: operator.describe, batchId: bc.batchId, batchTime: bc.batchTime },
  );
}

/**
 * Parents that slide at different intervals would leave the result with a batch only where their
 * slides meet, silently; Spark rejects them, and so does this. (Streams of different contexts
 * are left to the {@link DStream} constructor, whose message says so.)
 */
function checkSameSlide(kind: string, first: DStream<unknown>, parents: readonly DStream<unknown>[]): void {
  for (const parent of parents) {
    if (parent.graph === first.graph && parent.slideDuration !== first.slideDuration) {
      throw new TypeError(`${kind}: ${parent.describe} slides every ${parent.slideDuration} ms but ${first.describe} every ${first.slideDuration} ms; combine only streams with the same slide.`);
    }
  }
}

/** Calls a user function, turning what it throws into an error that names the operator. */
export function callUser<R>(operator: string, fn: () => R): R {
  try {
    return fn();
  } catch (error) {
    throw userFunctionFailed(operator, error);
  }
}

/** Awaits an async user function, turning a rejection into an error that names the operator. */
export async function callUserAsync<R>(operator: string, fn: () => Promise<R> | R): Promise<R> {
  try {
    return await fn();
  } catch (error) {
    throw userFunctionFailed(operator, error);
  }
}
