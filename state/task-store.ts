import { defineTaskStep, type DStreamGraph, type TaskContext, type TaskStep, type TaskWire } from '../core/extend.js';
import type { DStream } from 'sluice';
import { KeyGroupPlacement } from './key-group-placement.js';
import type { StateStore, StoreKey } from './state-store.js';

/** What a keyed state task does with its operator's store: reads loaded rows, stages writes. */
export type StoreRows = Pick<StateStore, 'get' | 'has' | 'put' | 'delete'>;

/**
 * The store a state task sees on a worker thread: the worker's cached rows of the task's key
 * groups (updated with what the driver sent), and the writes the task makes, in order, for the
 * driver to apply to the real store. The writes change the cache too: the next task of the same
 * key groups on this worker starts from them.
 */
export class TaskStore implements StoreRows {
  readonly #rows: Map<StoreKey, unknown>;
  /** The writes, flat: row, value, row, value, ... (`undefined`: a delete). */
  readonly writes: unknown[] = [];
  /** The tag of the dispatch the task runs as (its cache carries it afterwards). */
  readonly tag: number;

  constructor(rows: Map<StoreKey, unknown>, tag: number) {
    this.#rows = rows;
    this.tag = tag;
  }

  get(key: StoreKey): unknown {
    return this.#rows.get(key);
  }

  has(key: StoreKey): boolean {
    return this.#rows.has(key);
  }

  put(key: StoreKey, value: unknown): void {
    this.#rows.set(key, value);
    this.writes.push(key, value);
  }

  delete(key: StoreKey): void {
    this.#rows.delete(key);
    this.writes.push(key, undefined);
  }
}

/** The input of a state task: the store it works on (the operator's own, inline), its key groups, and its data. */
export interface StoreTaskInput {
  readonly store: StoreRows;
  /** The key groups `[start, end)` of the task's partition (`keyGroupRange`): every key it touches is in one of them. */
  readonly groups: { readonly start: number; readonly end: number };
}

/** What a state task reads, for its wire (see {@link defineStoreTaskStep}). */
export interface StoreTaskSpec<I extends StoreTaskInput> {
  /** In the driver: each row the task may read, with its value in the driver's store (`undefined`: none). */
  rows(input: I, visit: (row: StoreKey, value: unknown) => void): void;
  /** In the driver: the input without the row values it carries, if it carries any (they travel as rows). */
  strip?(input: I): I;
  /** In the worker: the input with what {@link strip} took out, read from the task's store. */
  refill?(input: I, store: StoreRows): I;
}

/** What a state task's payload carries besides its input. */
interface StorePayload {
  readonly input: Record<string, unknown>;
  /** Rows the worker's cache lacks, flat: row, value, ... */
  readonly rows: unknown[];
  readonly tag: number;
  /** The tag the worker's cache must hold to run the task with only `rows` (-1: the task is whole). */
  readonly expect: number;
  /** Cached ranges with an older tag are no longer used: the worker drops them. */
  readonly evictBefore: number;
}

/** What the driver keeps of a task it sent, until its result comes. */
interface Sent {
  readonly tag: number;
  readonly whole: boolean;
  readonly rows: unknown[];
  readonly cached: number;
  writes?: readonly unknown[];
}

/** A worker's cached rows of a range of key groups. */
interface CachedRange {
  readonly end: number;
  tag: number;
  readonly rows: Map<StoreKey, unknown>;
}

/** The store of a task the worker cannot run: its cache does not hold what the driver left out. */
const MISSED: StoreRows = Object.freeze({
  get: () => undefined,
  has: () => false,
  put: () => undefined,
  delete: () => undefined,
});

/**
 * Registers a keyed state task step on `node` (see `defineTaskStep`) whose state stays local on
 * worker threads. Inline, the task runs on the operator's store. On workers, each worker keeps a
 * cache of the rows of the key groups it ran; the driver records where each key group lives
 * ({@link KeyGroupPlacement}), asks the pool to run a task on the worker that holds its groups,
 * and sends only the rows that worker lacks; another worker that takes the task (a steal) gets it
 * whole. A worker that got a task whose groups it does not hold after all (a fresh worker that
 * replaced the holder) answers "missed", and the task runs again, sent whole. The worker
 * sends its writes back with the result; the driver applies them to its store in task order, and
 * a failed batch (the store's rollback) forgets every placement, so the driver's store and the
 * one atomic commit stay the authority.
 *
 * @returns the step and the operator's placement: the operator {@link KeyGroupPlacement.invalidate}s
 * the key groups of rows it writes in the driver itself (expiry, initial state, migration).
 */
export function defineStoreTaskStep<I extends StoreTaskInput, R>(
  node: DStream<unknown>,
  name: string,
  run: (input: I, context: TaskContext) => R,
  spec: StoreTaskSpec<I>,
): { readonly step: TaskStep<I, R>; readonly placement: KeyGroupPlacement } {
  const placement = new KeyGroupPlacement();
  forgetOnAbort(node.graph, `${node.describe}/${name}`, placement);
  const wire = storeTaskWire<I, R>(spec, placement);
  // A missed task's result is never used (the driver runs it again).
  const step = defineTaskStep(node, name, (input: I, context: TaskContext) => (input.store === MISSED ? (undefined as R) : run(input, context)), wire);
  return { step, placement };
}

/** A failed batch rolls the driver's store back: no worker's cache may be trusted after it. */
function forgetOnAbort(graph: DStreamGraph, name: string, placement: KeyGroupPlacement): void {
  graph.addCommitParticipant({
    name: `${name} (state placement)`,
    prepare: () => undefined,
    committed: () => undefined,
    aborted: () => {
      placement.invalidateAll();
    },
    handOff: () => undefined,
  });
}

/**
 * The wire of a keyed state step (see {@link defineStoreTaskStep}): one object holds the driver's
 * side (`prefer`, `sendInput`, `missed`, `receiveResult`, `ranOn`, `shipped`, on `placement`) and
 * a worker's side (`receiveInput`, `sendResult`, on its cache); each thread uses its own graph's.
 */
export function storeTaskWire<I extends StoreTaskInput, R>(spec: StoreTaskSpec<I>, placement: KeyGroupPlacement): TaskWire<I, R> {
  // Each input's sends in its stage (its own, one whole for other workers, one whole after a miss), and the one whose result was taken.
  const sent = new WeakMap<I, Sent[]>();
  const taken = new WeakMap<I, Sent>();
  // The worker's side: its cached ranges, by their first group.
  const cache = new Map<number, CachedRange>();
  return {
    prefer(input) {
      return placement.holderOf(input.groups.start, input.groups.end)?.worker;
    },
    sendInput(input): StorePayload {
      const { start, end } = input.groups;
      const held = placement.holderOf(start, end);
      const known = held === undefined ? undefined : placement.known(start);
      const rows: unknown[] = [];
      let cached = 0;
      spec.rows(input, (row, value) => {
        if (known?.has(row) === true) cached++;
        else if (value !== undefined) rows.push(row, value);
      });
      const tag = placement.newTag();
      const whole = known === undefined;
      const sends = sent.get(input);
      if (sends === undefined) sent.set(input, [{ tag, whole, rows, cached }]);
      else sends.push({ tag, whole, rows, cached });
      const stripped = spec.strip === undefined ? input : spec.strip(input);
      return { input: { ...stripped, store: undefined }, rows, tag, expect: whole ? -1 : (held as { tag: number }).tag, evictBefore: placement.oldestLiveTag() };
    },
    receiveInput(wire) {
      const { input, rows, tag, expect, evictBefore } = wire as StorePayload;
      const { start, end } = (input as unknown as StoreTaskInput).groups;
      for (const [first, range] of cache) if (range.tag < evictBefore && first !== start) cache.delete(first);
      let range = cache.get(start);
      if (expect >= 0 && (range === undefined || range.tag !== expect || range.end !== end)) return { ...input, store: MISSED } as unknown as I;
      if (expect < 0 || range === undefined) {
        range = { end, tag, rows: new Map() };
        cache.set(start, range);
      }
      for (let i = 0; i < rows.length; i += 2) range.rows.set(rows[i] as StoreKey, rows[i + 1]);
      range.tag = tag;
      const store = new TaskStore(range.rows, tag);
      const full = { ...input, store } as unknown as I;
      return spec.refill === undefined ? full : spec.refill(full, store);
    },
    sendResult(result, input) {
      if (input.store === MISSED) return { miss: true };
      const store = input.store as TaskStore;
      return { result, writes: store.writes, tag: store.tag };
    },
    elsewhere(input) {
      placement.invalidate(input.groups.start, input.groups.end);
    },
    missed(wire, input) {
      if ((wire as { miss?: boolean }).miss !== true) return false;
      placement.invalidate(input.groups.start, input.groups.end);
      return true;
    },
    receiveResult(wire, input) {
      const { result, writes, tag } = wire as { result: R; writes: unknown[]; tag: number };
      for (let i = 0; i < writes.length; i += 2) {
        const value = writes[i + 1];
        if (value === undefined) input.store.delete(writes[i] as StoreKey);
        else input.store.put(writes[i] as StoreKey, value);
      }
      // The send that produced it: a speculative race may be won by the preferred worker's own copy.
      const task = sent.get(input)?.find((s) => s.tag === tag);
      if (task !== undefined) {
        task.writes = writes;
        taken.set(input, task);
      }
      return result;
    },
    ranOn(input, worker) {
      const task = taken.get(input);
      if (task?.writes === undefined) return;
      placement.record(input.groups.start, input.groups.end, worker, task.tag, task.rows, task.writes, task.whole);
    },
    shipped(input) {
      const task = taken.get(input);
      return { rows: (task?.rows.length ?? 0) / 2, cached: task?.cached ?? 0 };
    },
  };
}
