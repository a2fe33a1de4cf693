import { DStream, type Batch, type Duration } from 'sluice';
import type { BatchContext } from 'sluice/extend';

/**
 * A stream that slides at twice its parent's interval, producing its parent's batch every second
 * batch: a stand-in for a windowed stream when testing operators that need equal slides.
 */
export class EverySecondBatch<T> extends DStream<T> {
  readonly #parent: DStream<T>;

  constructor(parent: DStream<T>) {
    super({ kind: 'everySecondBatch', graph: parent.graph, parents: [parent], slideDuration: (parent.slideDuration * 2) as Duration });
    this.#parent = parent;
  }

  protected override async compute(bc: BatchContext): Promise<Batch<T> | undefined> {
    return bc.batchId % 2 === 1 ? this.#parent.getOrCompute(bc) : undefined;
  }
}
