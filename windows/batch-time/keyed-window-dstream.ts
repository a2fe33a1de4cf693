import { Batch, type DStream, type Key, type Pair } from 'sluice';
import { ErrorPolicy, keepLastResults, KeyMap, userFunctionFailed, type BatchContext, type Definition } from 'sluice/extend';
import { mergePartition, slidePartition, toPairs, WindowUndo, type PairFilter, type WindowMerge } from './window-merge.js';
import type { WindowGeometry } from './window-geometry.js';
import { WindowedDStream, type KeyedWindowOptions, type WindowSlide } from './windowed-dstream.js';

/** How a {@link KeyedWindowDStream} aggregates. */
/** Combines one input batch by key into `numPartitions` partitions (registered task steps, see `keyedShuffle`). */
export type PrepareBatch<I, K extends Key, V> = (bc: BatchContext, input: Batch<I>, numPartitions: number) => Promise<Batch<Pair<K, V>>>;

export interface KeyedWindowFunctions<I, K extends Key, V> {
  /**
   * Combines one input batch per key into `numPartitions` hash partitions with the core's
   * partitioning (`combineByKeyBatch`, `partitionOf`), so windows merge partition by partition.
   */
  readonly prepare: (node: DStream<unknown>, policy: ErrorPolicy) => PrepareBatch<I, K, V>;
  /** Merges a key's per-batch values over a window (with an inverse, `add` is the reduce). */
  readonly merge: WindowMerge<V>;
  /** Undoes `merge.add`: the window is then computed incrementally from the previous one. */
  readonly inverse: ((a: V, b: V) => V) | undefined;
  readonly filter: PairFilter<K, V>;
}

/**
 * The stream behind the keyed windows (`reduceByKeyAndWindow`, `countByValueAndWindow`,
 * `groupByKeyAndWindow`). It holds each batch's per-key result; at a slide it merges the window's
 * results partition by partition, or, with an inverse, moves the previous window's per-key values
 * forward by the batches that entered and left (Spark's ReducedWindowedDStream). The held results
 * and the previous window's values are kept in the operator's state store, so a
 * checkpoint brings them back after a restart.
 */
export class KeyedWindowDStream<I, K extends Key, V> extends WindowedDStream<I, Pair<K, V>, Pair<K, V>> {
  readonly #fns: KeyedWindowFunctions<I, K, V>;
  readonly #numPartitions: number | undefined;
  /**
   * The window's values, one map per partition (incremental only): the last committed window's,
   * and while a batch runs the next window's (undone if the batch does not commit).
   */
  #window: readonly KeyMap<K, V>[] | undefined;
  readonly #policy: ErrorPolicy;
  readonly #prepare: PrepareBatch<I, K, V>;

  constructor(
    kind: string,
    input: DStream<I>,
    geometry: WindowGeometry,
    fns: KeyedWindowFunctions<I, K, V>,
    options: KeyedWindowOptions,
    defined: Definition,
  ) {
    super(kind, input, geometry, options, fns.inverse !== undefined);
    keepLastResults(this, 'pairs');
    this.#fns = fns;
    this.#numPartitions = options.numPartitions;
    this.#policy = new ErrorPolicy(this, defined);
    this.#prepare = fns.prepare(this, this.#policy);
  }

  protected override prepare(input: Batch<I>, bc: BatchContext): Promise<Batch<Pair<K, V>>> {
    return this.#prepare(bc, input, this.#numPartitions ?? bc.defaultParallelism);
  }

  protected override horizon(time: number, lastSlideTime: number): number {
    // With an inverse, the batches that leave before the next slide are taken out at that slide.
    return this.#fns.inverse === undefined ? super.horizon(time, lastSlideTime) : lastSlideTime - this.length;
  }

  protected override stateKeys(): number {
    let keys = 0;
    for (const map of this.#window ?? []) keys += map.size;
    return keys;
  }

  protected override async slide(bc: BatchContext, time: number): Promise<WindowSlide<Pair<K, V>>> {
    const { merge, inverse, filter } = this.#fns;
    const operator = this.describe;
    const partitions = Array.from({ length: this.#numPartitions ?? bc.defaultParallelism }, (_, p) => p);
    if (inverse === undefined) {
      const batches = this.buffer.between(time - this.length, time);
      const merged = await bc.executor.run(partitions.map((p) => () => guard(operator, () => toPairs(mergePartition(batches, p, merge), filter))));
      return { batch: new Batch(merged) };
    }
    const previousTime = time - this.slideDuration;
    const entered = this.buffer.between(previousTime, time);
    const left = this.buffer.between(previousTime - this.length, time - this.length);
    const windows = (this.#window ??= partitions.map(() => new KeyMap<K, V>()));
    const fns = { reduce: merge.add, inverse, filter };
    const undos = windows.map((w) => new WindowUndo(w));
    let pairs: Pair<K, V>[][];
    try {
      pairs = await bc.executor.run(partitions.map((p) => () => guard(operator, () => slidePartition(windows[p] as KeyMap<K, V>, entered, left, p, fns, undos[p] as WindowUndo<K, V>))));
    } catch (error) {
      undos.forEach((undo, p) => {
        undo.undo(windows[p] as KeyMap<K, V>);
      });
      throw error;
    }
    return {
      batch: new Batch(pairs),
      commit: () => {
        for (const w of windows) w.compact();
      },
      abort: () => {
        undos.forEach((undo, p) => {
          undo.undo(windows[p] as KeyMap<K, V>);
        });
      },
      // The pairs are the next window's entries, in order: stored as they are (records are immutable).
      state: pairs,
    };
  }

  protected override restoreState(state: unknown): void {
    this.#window = (state as [K, V][][]).map((entries) => {
      const map = new KeyMap<K, V>();
      for (const [key, value] of entries) map.set(key, value);
      return map;
    });
  }
}

/** Runs one partition's task, turning what a user function throws into an error naming the operator. */
function guard<R>(operator: string, task: () => R): R {
  try {
    return task();
  } catch (error) {
    throw userFunctionFailed(operator, error);
  }
}
