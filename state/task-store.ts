import type { TaskWire } from '../core/extend.js';
import type { StateStore, StoreKey } from './state-store.js';

/** What a keyed state task does with its operator's store: reads loaded rows, stages writes. */
export type StoreRows = Pick<StateStore, 'get' | 'has' | 'put' | 'delete'>;

/**
 * The store a state task sees on a worker thread: the rows the driver sent (those the task may
 * read), and the writes the task makes, in order, for the driver to apply to the real store.
 */
export class TaskStore implements StoreRows {
  readonly #rows: Map<StoreKey, unknown>;
  /** The writes, flat: row, value, row, value, ... (`undefined`: a delete). */
  readonly writes: unknown[] = [];

  constructor(rows: readonly (readonly [StoreKey, unknown])[]) {
    this.#rows = new Map(rows);
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

/** The input of a state task: the store it works on (the operator's own, inline), and its data. */
export interface StoreTaskInput {
  readonly store: StoreRows;
}

/**
 * The wire of a state task (see `TaskWire`): the driver sends the rows `rowsOf(input)` names (read
 * from the real store, which has them loaded) and the input without its store; the worker runs the
 * task on a {@link TaskStore} and sends its writes back with the result; the driver applies them
 * to its store, in the order the task made them. Tasks of one stage touch disjoint keys, so the
 * store ends as if they had run inline.
 */
export function storeTaskWire<I extends StoreTaskInput, R>(rowsOf: (input: I) => Iterable<StoreKey>): TaskWire<I, R> {
  return {
    sendInput(input) {
      const rows: [StoreKey, unknown][] = [];
      for (const row of rowsOf(input)) if (input.store.has(row)) rows.push([row, input.store.get(row)]);
      return { ...input, store: undefined, rows };
    },
    receiveInput(wire) {
      const { rows, ...input } = wire as { rows: [StoreKey, unknown][] };
      return { ...input, store: new TaskStore(rows) } as unknown as I;
    },
    sendResult(result, input) {
      return { result, writes: (input.store as TaskStore).writes };
    },
    receiveResult(wire, input) {
      const { result, writes } = wire as { result: R; writes: unknown[] };
      for (let i = 0; i < writes.length; i += 2) {
        const value = writes[i + 1];
        if (value === undefined) input.store.delete(writes[i] as StoreKey);
        else input.store.put(writes[i] as StoreKey, value);
      }
      return result;
    },
  };
}
