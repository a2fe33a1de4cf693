import { type DStream, type Key, type Pair } from 'sluice';
import { defineTaskStep, KeyMap, userFunctionFailed, type TaskStep, type TaskWire } from 'sluice/extend';
import { mergePartition, slidePartition, toPairs, WindowUndo, type InverseReduce, type PairFilter, type WindowMerge, type WindowParts } from './window-merge.js';

/*
 * The per-partition work of a keyed batch-time window at a slide, as registered task steps, so an
 * executor that runs tasks on worker threads runs it there (one task per output partition). The
 * window's state stays in the driver, which commits it with the batch: a task gets what it reads
 * (its partition of the window's per-batch partials, and with an inverse the previous window's
 * entries of its partition) and gives back the next window's pairs.
 */

/**
 * One partition of an incremental window, as the driver holds it: a map that inline tasks move
 * forward in place (undone if the batch does not commit), or its entries in window order (after a
 * restart, or as a worker gave them back: the next slide sends them as they are).
 */
export type PartitionWindow<K extends Key, V> = KeyMap<K, V> | readonly Pair<K, V>[];

/** The input of one partition's slide task. */
export interface SlideInput<K extends Key, V> {
  /** The previous window's values of the partition. */
  readonly window: PartitionWindow<K, V>;
  /** The partition's part of the batches that enter the window, oldest first. */
  readonly entered: WindowParts<K, V>;
  /** The partition's part of the batches that leave it, oldest first. */
  readonly left: WindowParts<K, V>;
  /** Set by a task that moved `window` (a map) in place: how to take that back. */
  undo: WindowUndo<K, V> | undefined;
  /** Set once the task ran: the next window of the partition (`window` moved, a new map, or the worker's pairs). */
  next: PartitionWindow<K, V> | undefined;
}

/** What a slide task's input is on the wire: the previous window's entries and the partials. */
interface SlideWire<K extends Key, V> {
  readonly window: readonly Pair<K, V>[];
  readonly entered: WindowParts<K, V>;
  readonly left: WindowParts<K, V>;
}

/** The number of keys of a partition's window. */
export function windowKeys<K extends Key, V>(window: PartitionWindow<K, V>): number {
  return window instanceof KeyMap ? window.size : window.length;
}

/** Takes back what an inline slide task did to the driver's map, if it ran. */
export function undoSlide<K extends Key, V>(input: SlideInput<K, V>): void {
  if (input.undo !== undefined && input.window instanceof KeyMap) input.undo.undo(input.window);
  input.undo = undefined;
}

function entriesOf<K extends Key, V>(window: PartitionWindow<K, V>): readonly Pair<K, V>[] {
  if (!(window instanceof KeyMap)) return window;
  const out: Pair<K, V>[] = [];
  window.forEach((value, key) => out.push([key, value]));
  return out;
}

function mapOf<K extends Key, V>(entries: readonly Pair<K, V>[]): KeyMap<K, V> {
  const map = new KeyMap<K, V>();
  for (let i = 0; i < entries.length; i++) {
    const [key, value] = entries[i] as Pair<K, V>;
    map.add(key, value);
  }
  return map;
}

/** Runs a user function's work, turning what it throws into an error naming the operator (it always fails the batch). */
function guard<R>(operator: string, task: () => R): R {
  try {
    return task();
  } catch (error) {
    throw userFunctionFailed(operator, error);
  }
}

/**
 * The step that merges one partition of a window in full (no inverse): its input is the
 * partition's part of each held batch of the window (plain data: no wire), its result the
 * window's pairs that `filter` keeps, keys in first-seen order.
 */
export function defineMergeStep<K extends Key, V>(node: DStream<unknown>, merge: WindowMerge<V>, filter: PairFilter<K, V>): TaskStep<WindowParts<K, V>, Pair<K, V>[]> {
  const operator = node.describe;
  return defineTaskStep(node, 'windowMerge', (parts: WindowParts<K, V>) => guard(operator, () => toPairs(mergePartition(parts, merge), filter)));
}

/**
 * The step that moves one partition of an incremental window forward (Spark's
 * ReducedWindowedDStream, see `slidePartition`). Inline it moves the driver's map in place and
 * records the undo; on a worker it runs on a map built from the entries it was sent, and the
 * driver keeps the pairs it gives back as the next window (in window order, as the map would
 * hold them after `compact`), so the driver never builds a map.
 */
export function defineSlideStep<K extends Key, V>(node: DStream<unknown>, fns: InverseReduce<K, V>): TaskStep<SlideInput<K, V>, Pair<K, V>[]> {
  const operator = node.describe;
  const wire: TaskWire<SlideInput<K, V>, Pair<K, V>[]> = {
    sendInput: (input): SlideWire<K, V> => ({ window: entriesOf(input.window), entered: input.entered, left: input.left }),
    receiveInput: (data) => {
      const { window, entered, left } = data as SlideWire<K, V>;
      return { window, entered, left, undo: undefined, next: undefined };
    },
    sendResult: (pairs) => pairs,
    receiveResult: (data, input) => {
      const pairs = data as Pair<K, V>[];
      input.next = pairs;
      // The window keeps the array; the batch gets its own (a consumer may sort its records in place).
      return pairs.slice();
    },
  };
  return defineTaskStep(
    node,
    'windowSlide',
    (input: SlideInput<K, V>) => {
      const inPlace = input.window instanceof KeyMap;
      const map = input.window instanceof KeyMap ? input.window : mapOf(input.window);
      const undo = new WindowUndo(map);
      if (inPlace) input.undo = undo;
      const pairs = guard(operator, () => slidePartition(map, input.entered, input.left, fns, undo));
      input.next = map;
      return pairs;
    },
    wire,
  );
}
