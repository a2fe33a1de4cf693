import type { Batch } from './batch.js';
import type { BatchContext } from './batch-context.js';
import type { DStreamGraph } from './graph.js';
import type { StateDescriptor } from './state-port.js';
import { namingOperator } from './operator-error.js';
import type { Duration } from './time.js';

/** A function from one value to another: an operator is one from a stream to a stream. */
export type UnaryFunction<A, B> = (input: A) => B;

/** A function that turns a stream into another stream. */
export type Operator<T, U> = UnaryFunction<DStream<T>, DStream<U>>;

/**
 * A discretized stream: a node of the lineage graph that produces one {@link Batch} per batch
 * time (or, for windowed streams, per slide). Build new streams with standalone operators and
 * {@link DStream.pipe}; end a chain with an output operation such as `foreachBatch`.
 *
 * Implementations provide {@link DStream.compute}; everything else is shared.
 */
export abstract class DStream<T> {
  /** The node's position in the graph: stable for the same program. */
  readonly id: number;
  /** The operator kind, such as `'map'` or `'reduceByKey'`. */
  readonly kind: string;
  /** The graph this stream belongs to. */
  readonly graph: DStreamGraph;
  /** The streams this one is computed from. */
  readonly parents: readonly DStream<unknown>[];
  /** How often this stream produces a batch (the batch interval unless windowed). */
  readonly slideDuration: Duration;
  readonly #name: string | undefined;

  protected constructor(options: {
    readonly kind: string;
    readonly graph: DStreamGraph;
    readonly parents: readonly DStream<unknown>[];
    readonly name?: string | undefined;
    readonly slideDuration?: Duration;
  }) {
    const { graph, parents } = options;
    for (const parent of parents) {
      if (parent.graph !== graph) {
        throw new TypeError(`${options.kind}: its inputs belong to different streaming contexts; combine only streams of the same context.`);
      }
    }
    this.kind = options.kind;
    this.graph = graph;
    this.parents = parents;
    this.id = graph.nextId;
    this.#name = options.name;
    this.slideDuration = options.slideDuration ?? parents[0]?.slideDuration ?? graph.batchInterval;
    graph.addNode(this, parents);
  }

  /** The user-given name, or `kind#id`: how errors, logs and metrics name this operator. */
  get describe(): string {
    return this.#name ?? `${this.kind}#${this.id}`;
  }

  /**
   * Computes this stream's batch for the batch in `bc`, or `undefined` when the stream produces
   * nothing at this batch time: only between its slides (a batch time that is not a multiple of
   * its `slideDuration` from the zero time). At a slide time, return a batch, `Batch.empty()` for
   * none: `union`, `transform`, `transformWith` and the joins fail the batch (`BATCH_FAILED`) on an
   * input that gives none. Called at most once per batch (results are memoized).
   */
  protected abstract compute(bc: BatchContext): Promise<Batch<T> | undefined> | Batch<T> | undefined;

  /**
   * What this operator's stored state means, for a stateful operator (recorded in a checkpoint,
   * compared on restart); `undefined` for a stateless one, which is free to change.
   */
  stateDescriptor(): StateDescriptor | undefined {
    return undefined;
  }

  /**
   * This stream's batch for `bc`, computed once per batch and shared by every consumer. A
   * `SluiceError` the computation throws that names no operator (a state store's, a decoder's)
   * is made to name this one.
   */
  getOrCompute(bc: BatchContext): Promise<Batch<T> | undefined> {
    return bc.memo(this.id, async () => {
      try {
        return await this.compute(bc);
      } catch (error) {
        throw namingOperator(error, this.describe);
      }
    });
  }

  /** Applies operators left to right: `stream.pipe(map(f), filter(p))`. */
  pipe(): this;
  pipe<A>(op1: UnaryFunction<DStream<T>, A>): A;
  pipe<A, B>(op1: UnaryFunction<DStream<T>, A>, op2: UnaryFunction<A, B>): B;
  pipe<A, B, C>(op1: UnaryFunction<DStream<T>, A>, op2: UnaryFunction<A, B>, op3: UnaryFunction<B, C>): C;
  pipe<A, B, C, D>(op1: UnaryFunction<DStream<T>, A>, op2: UnaryFunction<A, B>, op3: UnaryFunction<B, C>, op4: UnaryFunction<C, D>): D;
  pipe<A, B, C, D, E>(op1: UnaryFunction<DStream<T>, A>, op2: UnaryFunction<A, B>, op3: UnaryFunction<B, C>, op4: UnaryFunction<C, D>, op5: UnaryFunction<D, E>): E;
  pipe<A, B, C, D, E, F>(op1: UnaryFunction<DStream<T>, A>, op2: UnaryFunction<A, B>, op3: UnaryFunction<B, C>, op4: UnaryFunction<C, D>, op5: UnaryFunction<D, E>, op6: UnaryFunction<E, F>): F;
  pipe<A, B, C, D, E, F, G>(op1: UnaryFunction<DStream<T>, A>, op2: UnaryFunction<A, B>, op3: UnaryFunction<B, C>, op4: UnaryFunction<C, D>, op5: UnaryFunction<D, E>, op6: UnaryFunction<E, F>, op7: UnaryFunction<F, G>): G;
  pipe<A, B, C, D, E, F, G, H>(op1: UnaryFunction<DStream<T>, A>, op2: UnaryFunction<A, B>, op3: UnaryFunction<B, C>, op4: UnaryFunction<C, D>, op5: UnaryFunction<D, E>, op6: UnaryFunction<E, F>, op7: UnaryFunction<F, G>, op8: UnaryFunction<G, H>): H;
  pipe<A, B, C, D, E, F, G, H, I>(op1: UnaryFunction<DStream<T>, A>, op2: UnaryFunction<A, B>, op3: UnaryFunction<B, C>, op4: UnaryFunction<C, D>, op5: UnaryFunction<D, E>, op6: UnaryFunction<E, F>, op7: UnaryFunction<F, G>, op8: UnaryFunction<G, H>, op9: UnaryFunction<H, I>): I;
  pipe(...ops: readonly ((input: never) => unknown)[]): unknown {
    return ops.reduce<unknown>((value, op) => op(value as never), this);
  }
}
