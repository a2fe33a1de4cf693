import { Batch, DStream, type Key } from 'sluice';
import type { BatchContext } from 'sluice/extend';
import type { LateJoinRecord } from './join-options.js';

/** What {@link LateJoinRecordsDStream} reads: a join operator that keeps each batch's late records. */
export interface LateJoinSource<K extends Key, L, R> extends DStream<unknown> {
  /** The late records of batch `batchId`, once the operator has computed it. */
  lateOf(batchId: number): readonly LateJoinRecord<K, L, R>[];
}

/** The late records of an event-time join, per batch (its `late: 'sideOutput'` side output). */
export class LateJoinRecordsDStream<K extends Key, L, R> extends DStream<LateJoinRecord<K, L, R>> {
  readonly #owner: LateJoinSource<K, L, R>;

  constructor(owner: LateJoinSource<K, L, R>) {
    super({ kind: 'lateRecords', graph: owner.graph, parents: [owner] });
    this.#owner = owner;
  }

  protected override async compute(bc: BatchContext): Promise<Batch<LateJoinRecord<K, L, R>>> {
    await this.#owner.getOrCompute(bc);
    return Batch.of(this.#owner.lateOf(bc.batchId), bc.defaultParallelism);
  }
}
