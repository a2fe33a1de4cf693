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

  /**
   * @internal The fused chain that computes this stream: the first ancestor that is not fused
   * into it (the root) and the stages from this one back to the root's child (last stage first).
   */
  fusedChain(): FusedChain {
    const stages: Stage<unknown, unknown>[] = [this.#stage as Stage<unknown, unknown>];
    let root: DStream<unknown> = this.#parent;
    while (root instanceof NarrowDStream && this.graph.consumers(root.id) === 1) {
      stages.push(root.#stage as Stage<unknown, unknown>);
      root = root.#parent as DStream<unknown>;
    }
    return { root, stages };
  }

  protected override async compute(bc: BatchContext): Promise<Batch<O> | undefined> {
    const { root, stages } = this.fusedChain();
    const input = await root.getOrCompute(bc);
    if (input === undefined) return undefined;
    const partitions = await bc.executor.run(
      input.partitions.map((partition) => () => {
        const out: unknown[] = [];
        runStages(partition, stages, (record) => {
          out.push(record);
        });
        return out;
      }),
    );
    return new Batch(partitions as O[][]);
  }
}

/** A root stream and the narrow stages (last first) that turn its records into a fused stream's. */
export interface FusedChain {
  readonly root: DStream<unknown>;
  readonly stages: readonly Stage<unknown, unknown>[];
}

/**
 * The chain a consumer of `stream` can run itself, in the same pass as its own per-record work
 * (as a keyed aggregation does in its map tasks): when `stream` is narrow and this consumer is its
 * only one. Undefined otherwise: read `stream`'s batch.
 */
export function fusableChain(stream: DStream<unknown>): FusedChain | undefined {
  return stream instanceof NarrowDStream && stream.graph.consumers(stream.id) === 1 ? stream.fusedChain() : undefined;
}

/** Runs `stages` (last stage first in the array) over one partition, sending their output to `emit`. */
export function runStages(partition: readonly unknown[], stages: readonly Stage<unknown, unknown>[], emit: Emit<unknown>): void {
  let handle = emit;
  for (const stage of stages) handle = stage(handle);
  for (let i = 0; i < partition.length; i++) handle(partition[i]);
}
