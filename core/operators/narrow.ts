import { Batch } from '../batch.js';
import type { BatchContext } from '../batch-context.js';
import { DStream } from '../dstream.js';

/** Receives the records a stage emits. */
export type Emit<O> = (record: O) => void;

/**
 * A per-record step of a narrow operator, written in push style: given where to send its output,
 * it returns the function that handles one input record. Chains of stages run as one loop per
 * partition with no intermediate arrays.
 */
export type Stage<I, O> = (emit: Emit<O>) => (record: I) => void;

/**
 * A stream computed record by record from one parent (map, filter, flatMap, mapValues, ...).
 * When its parent is also narrow and has no other consumer, the two are fused: computing this
 * stream runs every fused stage in a single pass over the root's partitions.
 */
export class NarrowDStream<I, O> extends DStream<O> {
  readonly #parent: DStream<I>;
  readonly #stage: Stage<I, O>;

  constructor(kind: string, parent: DStream<I>, stage: (operator: string) => Stage<I, O>) {
    super({ kind, graph: parent.graph, parents: [parent] });
    this.#parent = parent;
    this.#stage = stage(this.describe);
  }

  protected override async compute(bc: BatchContext): Promise<Batch<O> | undefined> {
    const stages: Stage<unknown, unknown>[] = [this.#stage as Stage<unknown, unknown>];
    let root: DStream<unknown> = this.#parent;
    while (root instanceof NarrowDStream && this.graph.consumers(root.id) === 1) {
      stages.push(root.#stage as Stage<unknown, unknown>);
      root = root.#parent as DStream<unknown>;
    }
    const input = await root.getOrCompute(bc);
    if (input === undefined) return undefined;
    const partitions = await bc.executor.run(
      input.partitions.map((partition) => () => runStages(partition, stages)),
    );
    return new Batch(partitions as O[][]);
  }
}

/** Runs `stages` (last stage first in the array) over one partition. */
function runStages(partition: readonly unknown[], stages: readonly Stage<unknown, unknown>[]): unknown[] {
  const out: unknown[] = [];
  let handle: Emit<unknown> = (record) => {
    out.push(record);
  };
  for (const stage of stages) handle = stage(handle);
  for (let i = 0; i < partition.length; i++) handle(partition[i]);
  return out;
}
