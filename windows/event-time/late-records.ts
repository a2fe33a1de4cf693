import { Batch, DStream } from 'sluice';
import type { BatchContext } from 'sluice/extend';

/**
 * The late records of an operator with `late: 'sideOutput'`, one batch per batch: what `lateOf`
 * gives for the batch once the operator has computed it.
 */
export class LateRecordsDStream<T> extends DStream<T> {
  readonly #owner: DStream<unknown>;
  readonly #lateOf: (batchId: number) => readonly T[];

  constructor(owner: DStream<unknown>, lateOf: (batchId: number) => readonly T[]) {
    super({ kind: 'lateRecords', graph: owner.graph, parents: [owner] });
    this.#owner = owner;
    this.#lateOf = lateOf;
  }

  protected override async compute(bc: BatchContext): Promise<Batch<T>> {
    await this.#owner.getOrCompute(bc);
    return Batch.of(this.#lateOf(bc.batchId), bc.defaultParallelism);
  }
}
