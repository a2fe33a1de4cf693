import { DStream, type Duration } from 'sluice';
import type { BatchContext, DStreamGraph } from '../core/extend.js';
import { checkStateBackendOption, openStore } from './state-backend-service.js';
import type { StateBackend, StateStore } from './state-store.js';

/**
 * A stream whose operator keeps keyed state in a {@link StateStore}: the store is opened when the
 * context starts, under the operator's stable id (its `name`, or `kind#position`), on the
 * operator's own `stateBackend` or the context's default one; the backend commits it with every
 * batch.
 */
export abstract class StatefulDStream<T> extends DStream<T> {
  #store: StateStore | undefined;

  /**
   * @throws TypeError when the context is checkpointed and `stateBackend` is not the checkpoint's.
   */
  protected constructor(options: {
    readonly kind: string;
    readonly graph: DStreamGraph;
    readonly parents: readonly DStream<unknown>[];
    readonly name?: string | undefined;
    readonly slideDuration?: Duration;
    readonly stateBackend?: StateBackend | undefined;
  }) {
    super(options);
    const backend = options.stateBackend;
    checkStateBackendOption(this.graph, this.describe, backend);
    this.graph.services.onStart(async () => {
      this.#store = await openStore(this.graph, this.describe, backend);
    });
  }

  /** The operator's store: its backend commits it with every batch (throws before the context has started). */
  get store(): StateStore {
    if (this.#store === undefined) {
      throw new TypeError(`The state of ${this.describe} is not open: start the streaming context first.`);
    }
    return this.#store;
  }

  /**
   * Adds the store's size once the batch has committed (rows and bytes) to the batch's progress
   * event; an operator that knows its state's size after the batch passes `stateRows`.
   */
  protected reportState(bc: BatchContext, extra: { readonly lateRecordsDropped?: number; readonly stateRows?: number } = {}): void {
    bc.reportOperator(() => {
      const stats = this.store.stats();
      return { operator: this.describe, stateRows: stats.rows, ...(stats.bytes === undefined ? {} : { stateBytes: stats.bytes }), ...extra };
    });
  }

  /** Decodes a stored entry into the operator's state value (for queryable state). */
  abstract stateOf(entry: unknown): unknown;
}
