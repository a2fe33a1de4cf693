import { Batch } from './batch.js';
import type { BatchContext } from './batch-context.js';
import { DStream } from './dstream.js';
import type { DeadLetter } from './error-policy.js';
import type { DStreamGraph } from './graph.js';

/**
 * The records every operator of a context dead-lettered in a batch (`onError: 'deadLetter'`),
 * one batch per batch: `ctx.deadLetters`. Route it like any stream.
 *
 * Dead letters come from computing the other outputs' streams, so computing this stream first
 * computes theirs (memoized: each is computed once per batch, and their outputs still run in
 * definition order). An operator downstream of this stream cannot dead-letter into it.
 */
export class DeadLetterDStream extends DStream<DeadLetter> {
  /** The streams of the outputs not computed from this one, found at the first batch (the graph is frozen by then). */
  #producers: readonly DStream<unknown>[] | undefined;

  constructor(graph: DStreamGraph) {
    super({ kind: 'deadLetters', graph, parents: [], name: 'deadLetters' });
  }

  protected override async compute(bc: BatchContext): Promise<Batch<DeadLetter>> {
    this.#producers ??= this.graph.outputs
      .map((output) => output.stream)
      .filter((stream): stream is DStream<unknown> => stream instanceof DStream && !descendsFrom(stream, this));
    for (const stream of this.#producers) await stream.getOrCompute(bc);
    return Batch.of(bc.recordErrors.deadLetters());
  }
}

/** Whether `stream` is `ancestor` or computed from it. */
export function descendsFrom(stream: DStream<unknown>, ancestor: DStream<unknown>): boolean {
  const seen = new Set<number>();
  const stack = [stream];
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    if (next === ancestor) return true;
    if (seen.has(next.id)) continue;
    seen.add(next.id);
    stack.push(...next.parents);
  }
  return false;
}
