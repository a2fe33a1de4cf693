import { DStream, type BatchContext, type DStreamGraph, type Duration } from 'sluice';
import { openStore, type OpenedStore } from './state-backend-service.js';
import type { StateStore } from './state-store.js';

/**
 * A stream whose operator keeps keyed state in a {@link StateStore}: the store is opened on the
 * context's state backend when the context starts, under the operator's stable id (its `name`,
 * or `kind#position`), and every batch that touches it commits with the batch.
 */
export abstract class StatefulDStream<T> extends DStream<T> {
  #opened: OpenedStore | undefined;

  protected constructor(options: {
    readonly kind: string;
    readonly graph: DStreamGraph;
    readonly parents: readonly DStream<unknown>[];
    readonly name?: string | undefined;
    readonly slideDuration?: Duration;
  }) {
    super(options);
    this.graph.services.onStart(async () => {
      this.#opened = await openStore(this.graph, this.describe);
    });
  }

  /** The operator's store, for queryable state (throws before the context has started). */
  get store(): StateStore {
    if (this.#opened === undefined) {
      throw new TypeError(`The state of ${this.describe} is not open: start the streaming context first.`);
    }
    return this.#opened.store;
  }

  /** The store, registered to commit (or abort) with the batch in `bc`. */
  protected storeFor(bc: BatchContext): StateStore {
    const store = this.store;
    bc.onCommit((this.#opened as OpenedStore).participant);
    return store;
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
