import { DStream, type Batch } from 'sluice';
import type { BatchContext } from 'sluice/extend';

/**
 * A user's DStream with a bug: it slides every batch but gives no batch (`undefined`) in the
 * batches listed, and its parent's batch in the others.
 */
export class GapStream<T> extends DStream<T> {
  readonly #parent: DStream<T>;
  readonly #gaps: readonly number[];

  constructor(parent: DStream<T>, gaps: readonly number[]) {
    super({ kind: 'gapStream', graph: parent.graph, parents: [parent] });
    this.#parent = parent;
    this.#gaps = gaps;
  }

  protected override async compute(bc: BatchContext): Promise<Batch<T> | undefined> {
    const batch = await this.#parent.getOrCompute(bc);
    return this.#gaps.includes(bc.batchId) ? undefined : batch;
  }
}
