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
  /** The partition. */
  readonly partition: number;
  /** The previous window's values of the partition. */
  readonly window: PartitionWindow<K, V>;
  /** The partition's part of the batches that enter the window, oldest first. */
  readonly entered: WindowParts<K, V>;
  /** The partition's part of the batches that leave it, oldest first. */
  readonly left: WindowParts<K, V>;
  /** The batch times of `entered` and `left`. */
  readonly enteredTimes: readonly number[];
  readonly leftTimes: readonly number[];
  /**
   * The partition's part of the batches still in the window that will leave at a later slide
   * (neither entering nor leaving now), and their times: sent to a worker that gets the window
   * whole, so that it holds every partial it will take out.
   */
  readonly held: () => { readonly parts: WindowParts<K, V>; readonly times: readonly number[] };
  /** Set by a task that moved the driver's map in place (inline): how to take that back. */
  undo: WindowUndo<K, V> | undefined;
  /** Set once the task ran: the next window of the partition (`window` moved, a new map, or the worker's pairs). */
  next: PartitionWindow<K, V> | undefined;
}

/** A slide task's input in a worker: `window` is the map it moves (its cache's, or one built from what it was sent). */
interface WorkerSlideInput<K extends Key, V> extends SlideInput<K, V> {
  /** The dispatch's tag: the worker's cache carries it once the task ran. */
  readonly tag: number;
  /** The worker did not hold the window the driver expected: the task does not run. */
  readonly missed: boolean;
  /** The partials of the window's batches the worker holds after this slide, by batch time. */
  readonly partials: Map<number, readonly Pair<K, V>[]>;
}

/** A worker's copy of a partition's window: the map, and the partials of the batches in it (to take out when they leave). */
interface CachedWindow<K extends Key, V> {
  readonly tag: number;
  readonly map: KeyMap<K, V>;
  readonly partials: Map<number, readonly Pair<K, V>[]>;
}

/**
 * A slide task on the wire. The previous window's entries, the partials that leave and those
 * still held travel only when the worker is not expected to hold them (`expect` -1: a first run, a
 * steal, a retry, after a failed batch); otherwise the worker moves its cached map, which must
 * carry the tag `expect`, and takes the leaving partials from its cache: only the entering ones travel.
 */
interface SlideWire<K extends Key, V> {
  readonly partition: number;
  readonly tag: number;
  readonly expect: number;
  /** Cached windows with an older tag are no longer used: the worker drops them. */
  readonly evictBefore: number;
  readonly entered: WindowParts<K, V>;
  readonly enteredTimes: readonly number[];
  readonly leftTimes: readonly number[];
  readonly whole?: {
    readonly window: readonly Pair<K, V>[];
    readonly left: WindowParts<K, V>;
    readonly held: WindowParts<K, V>;
    readonly heldTimes: readonly number[];
  };
}

/** One send of a slide task (driver side): its tag, whether it carried the window, and the keys it carried or left out. */
interface SlideSend {
  readonly tag: number;
  readonly whole: boolean;
  readonly keys: number;
}

/**
 * The driver's record of which worker holds each partition's window (the tag of the task that
 * last moved it there), so that the next slide runs there and sends only the partials that
 * enter. The driver's window stays the authority: a worker's copy is used only while this
 * record names it, and a failed batch {@link forget}s every record.
 */
export interface WindowPlacement {
  /** Forgets where every partition's window lives: every next task is sent whole. */
  forget(): void;
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

const noneHeld = (): { readonly parts: WindowParts<never, never>; readonly times: readonly number[] } => ({ parts: [], times: [] });

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
 * records the undo. On workers the windows stay local, as keyed state does: each worker caches
 * the maps of the partitions it ran and the partials of their windows' batches, the driver
 * records where each lives (by tag, new for every dispatch) and asks the pool to run the
 * partition's next task there, sending only the partials that enter (those that leave come from
 * the cache); a task that another worker takes (a steal, a speculative copy, a retry) gets the
 * previous window and its partials whole, and a worker that does not hold the expected copy
 * after all (a fresh worker) answers "missed", and the task runs again, sent whole. The driver keeps the
 * pairs a worker gives back as the next window (in window order, as the map holds them after
 * `compact`): it never builds a map, and commits the window with the batch.
 */
export function defineSlideStep<K extends Key, V>(node: DStream<unknown>, fns: InverseReduce<K, V>): { readonly step: TaskStep<SlideInput<K, V>, Pair<K, V>[]>; readonly placement: WindowPlacement } {
  const operator = node.describe;
  // The driver's side: the holder of each partition's window, each input's sends in its stage, and the one whose result was taken.
  const holders = new Map<number, { readonly worker: number; readonly tag: number }>();
  const sent = new WeakMap<SlideInput<K, V>, SlideSend[]>();
  const taken = new WeakMap<SlideInput<K, V>, SlideSend>();
  let nextTag = 1;
  // A worker's side: its cached windows, by partition.
  const cache = new Map<number, CachedWindow<K, V>>();
  const wire: TaskWire<SlideInput<K, V>, Pair<K, V>[]> = {
    prefer: (input) => holders.get(input.partition)?.worker,
    sendInput: (input): SlideWire<K, V> => {
      const held = holders.get(input.partition);
      const tag = nextTag++;
      const whole = held === undefined;
      const keys = windowKeys(input.window);
      const sends = sent.get(input);
      if (sends === undefined) sent.set(input, [{ tag, whole, keys }]);
      else sends.push({ tag, whole, keys });
      let evictBefore = Number.POSITIVE_INFINITY;
      for (const holding of holders.values()) if (holding.tag < evictBefore) evictBefore = holding.tag;
      const payload = {
        partition: input.partition,
        tag,
        expect: held === undefined ? -1 : held.tag,
        evictBefore: holders.size === 0 ? 0 : evictBefore,
        entered: input.entered,
        enteredTimes: input.enteredTimes,
        leftTimes: input.leftTimes,
      };
      if (!whole) return payload;
      // Left out, not undefined, when the worker holds it (a msgpack payload keeps no undefined).
      const still = input.held();
      return { ...payload, whole: { window: entriesOf(input.window), left: input.left, held: still.parts, heldTimes: still.times } };
    },
    receiveInput: (data): WorkerSlideInput<K, V> => {
      const { partition, tag, expect, evictBefore, entered, enteredTimes, leftTimes, whole } = data as SlideWire<K, V>;
      for (const [p, cached] of cache) if (cached.tag < evictBefore && p !== partition) cache.delete(p);
      const cached = cache.get(partition);
      // Taken out while the task runs (it moves the map in place): a task that throws leaves no copy behind.
      cache.delete(partition);
      const none = { partition, entered, enteredTimes, leftTimes, held: noneHeld, undo: undefined, next: undefined, tag };
      let map: KeyMap<K, V>;
      let partials: Map<number, readonly Pair<K, V>[]>;
      let left: (readonly Pair<K, V>[])[];
      if (whole !== undefined) {
        map = mapOf(whole.window);
        partials = new Map(whole.heldTimes.map((t, i) => [t, whole.held[i] as readonly Pair<K, V>[]]));
        left = whole.left.slice();
      } else {
        if (cached?.tag !== expect) return { ...none, window: new KeyMap<K, V>(), left: [], missed: true, partials: new Map() };
        ({ map, partials } = cached);
        left = [];
        for (const t of leftTimes) {
          const part = partials.get(t);
          // Every batch of the window entered through this cache: a gap is a miss (sent whole next).
          if (part === undefined) return { ...none, window: new KeyMap<K, V>(), left: [], missed: true, partials: new Map() };
          left.push(part);
        }
      }
      for (const t of leftTimes) partials.delete(t);
      enteredTimes.forEach((t, i) => partials.set(t, entered[i] as readonly Pair<K, V>[]));
      return { ...none, window: map, left, missed: false, partials };
    },
    sendResult: (pairs, input) => {
      const local = input as WorkerSlideInput<K, V>;
      if (local.missed) return { miss: true };
      const map = local.window as KeyMap<K, V>;
      map.compact();
      cache.set(local.partition, { tag: local.tag, map, partials: local.partials });
      return { pairs, tag: local.tag };
    },
    elsewhere: (input) => {
      holders.delete(input.partition);
    },
    missed: (data, input) => {
      if ((data as { miss?: boolean }).miss !== true) return false;
      holders.delete(input.partition);
      return true;
    },
    receiveResult: (data, input) => {
      const { pairs, tag } = data as { pairs: Pair<K, V>[]; tag: number };
      input.next = pairs;
      // The send that produced it: a speculative race may be won by the preferred worker's own copy.
      const send = sent.get(input)?.find((s) => s.tag === tag);
      if (send !== undefined) taken.set(input, send);
      // The window keeps the array; the batch gets its own (a consumer may sort its records in place).
      return pairs.slice();
    },
    ranOn: (input, worker) => {
      const send = taken.get(input);
      if (send !== undefined) holders.set(input.partition, { worker, tag: send.tag });
    },
    shipped: (input) => {
      const send = taken.get(input);
      return send === undefined ? { rows: 0, cached: 0 } : send.whole ? { rows: send.keys, cached: 0 } : { rows: 0, cached: send.keys };
    },
  };
  const step = defineTaskStep(
    node,
    'windowSlide',
    (input: SlideInput<K, V>) => {
      // A worker that missed the window runs nothing (the driver runs the task again, sent whole).
      if ((input as Partial<WorkerSlideInput<K, V>>).missed === true) return [];
      const driver = (input as Partial<WorkerSlideInput<K, V>>).tag === undefined;
      let map: KeyMap<K, V>;
      if (input.window instanceof KeyMap) {
        map = input.window;
        // Inline, the driver's map moves in place: recorded, to take back should the batch not commit.
        if (driver) input.undo = new WindowUndo(map);
      } else map = mapOf(input.window);
      const pairs = guard(operator, () => slidePartition(map, input.entered, input.left, fns, input.undo));
      input.next = map;
      return pairs;
    },
    wire,
  );
  return {
    step,
    placement: {
      forget: () => {
        holders.clear();
      },
    },
  };
}
