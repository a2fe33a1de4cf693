import type { Batch } from '../batch.js';
import type { BatchContext } from '../batch-context.js';
import { DStream } from '../dstream.js';
import { userFunctionFailed } from '../operator-error.js';

/** Computes a stream's batch from its parents' batches. */
export type DeriveBatch<T> = (
  inputs: readonly Batch<unknown>[],
  bc: BatchContext,
  operator: string,
) => Promise<Batch<T> | undefined> | Batch<T> | undefined;

/**
 * A stream computed batch-wise from the batches of its parents by a function: the shape of every
 * operator that is not a per-record step (union, reduceByKey, join, transform, ...). It produces
 * nothing at a batch time where any parent produced nothing.
 *
 * @throws TypeError when the parents belong to different contexts or slide at different
 * intervals (as Spark requires of union, transformWith, cogroup and the joins).
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
    if (inputs.some((batch) => batch === undefined)) return undefined;
    return this.#derive(inputs as Batch<unknown>[], bc, this.describe);
  }
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
