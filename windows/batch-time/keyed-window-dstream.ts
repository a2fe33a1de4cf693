import { Batch, type DStream, type Key, type Pair } from 'sluice';
import { ErrorPolicy, keepLastResults, KeyMap, type BatchContext, type Definition, type TaskStep } from 'sluice/extend';
import type { PairFilter, WindowMerge, WindowParts } from './window-merge.js';
import { defineMergeStep, defineSlideStep, undoSlide, windowKeys, type PartitionWindow, type SlideInput, type WindowPlacement } from './window-tasks.js';
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
 * forward by the batches that entered and left (Spark's ReducedWindowedDStream): one task per
 * partition (`window-tasks.ts`), run where the executor runs tasks, on worker threads too, while
 * the window's state stays in the driver and moves forward when the batch commits. The held results
 * and the previous window's values are kept in the operator's state store, so a
 * checkpoint brings them back after a restart.
 */
export class KeyedWindowDStream<I, K extends Key, V> extends WindowedDStream<I, Pair<K, V>, Pair<K, V>> {
  readonly #fns: KeyedWindowFunctions<I, K, V>;
  readonly #numPartitions: number | undefined;
  /**
   * The window's values, one per partition (incremental only): the last committed window's. Inline
   * tasks move its maps in place while a batch runs (undone if the batch does not commit).
   */
  #window: readonly PartitionWindow<K, V>[] | undefined;
  readonly #policy: ErrorPolicy;
  readonly #prepare: PrepareBatch<I, K, V>;
  /** The slide's task step: a full merge of the window's partials, or (with an inverse) the incremental slide. */
  readonly #merge: TaskStep<WindowParts<K, V>, Pair<K, V>[]> | undefined;
  readonly #slide: TaskStep<SlideInput<K, V>, Pair<K, V>[]> | undefined;
  /** Where the workers hold the incremental window's partitions (forgotten when a batch fails). */
  readonly #placement: WindowPlacement | undefined;

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
    const { merge, inverse, filter } = fns;
    if (inverse === undefined) this.#merge = defineMergeStep(this, merge, filter);
    else ({ step: this.#slide, placement: this.#placement } = defineSlideStep(this, { reduce: merge.add, inverse, filter }));
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
    for (const window of this.#window ?? []) keys += windowKeys(window);
    return keys;
  }

  protected override async slide(bc: BatchContext, time: number): Promise<WindowSlide<Pair<K, V>>> {
    const numPartitions = this.#numPartitions ?? bc.defaultParallelism;
    const partitions = Array.from({ length: numPartitions }, (_, p) => p);
    if (this.#merge !== undefined) {
      const batches = this.buffer.between(time - this.length, time);
      const merged = await bc.executor.runStage(this.#merge, partitions.map((p) => partsOf(batches, p)), bc);
      return { batch: new Batch(merged) };
    }
    const step = this.#slide as TaskStep<SlideInput<K, V>, Pair<K, V>[]>;
    const previousTime = time - this.slideDuration;
    const entered = this.buffer.between(previousTime, time);
    const left = this.buffer.between(previousTime - this.length, time - this.length);
    const windows = (this.#window ??= partitions.map(() => []));
    const enteredTimes = this.buffer.timesBetween(previousTime, time);
    const leftTimes = this.buffer.timesBetween(previousTime - this.length, time - this.length);
    // The batches in the window that neither enter nor leave now (a worker that gets the window whole gets them too).
    const still = (): { batches: Batch<Pair<K, V>>[]; times: number[] } => ({ batches: this.buffer.between(time - this.length, previousTime), times: this.buffer.timesBetween(time - this.length, previousTime) });
    const inputs = partitions.map(
      (p): SlideInput<K, V> => ({
        partition: p,
        window: windows[p] ?? [],
        entered: partsOf(entered, p),
        left: partsOf(left, p),
        enteredTimes,
        leftTimes,
        held: () => {
          const { batches, times } = still();
          return { parts: partsOf(batches, p), times };
        },
        undo: undefined,
        next: undefined,
      }),
    );
    // A batch that does not commit: the driver's maps come back, and no worker's copy is trusted (theirs moved on).
    const undoAll = (): void => {
      for (const input of inputs) undoSlide(input);
      this.#placement?.forget();
    };
    let pairs: Pair<K, V>[][];
    try {
      pairs = await bc.executor.runStage(step, inputs, bc);
    } catch (error) {
      undoAll();
      throw error;
    }
    return {
      batch: new Batch(pairs),
      commit: () => {
        this.#window = inputs.map((input) => {
          const next = input.next as PartitionWindow<K, V>;
          if (next instanceof KeyMap) next.compact();
          return next;
        });
      },
      abort: undoAll,
      // The pairs are the next window's entries, in order: stored as they are (records are immutable).
      state: pairs,
    };
  }

  protected override restoreState(state: unknown): void {
    // The entries as they are: the next slide's tasks take them (a map is built where a task runs).
    this.#window = state as Pair<K, V>[][];
  }
}

/** Partition `p` of each batch, oldest first: what one slide task reads of them. */
function partsOf<K extends Key, V>(batches: readonly Batch<Pair<K, V>>[], p: number): WindowParts<K, V> {
  return batches.map((batch) => batch.partitions[p] ?? []);
}
