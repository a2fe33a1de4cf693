import { DStream, type Duration } from 'sluice';
import type { BatchContext, DStreamGraph, StateConfigValue, StateDescriptor } from '../core/extend.js';
import { checkStateBackendOption, openStore } from './state-backend-service.js';
import type { StateBackend, StateStore, StoreKey, StoreStats } from './state-store.js';

/** What a stateful operator's stored state means (see `StateDescriptor`), as its constructor is given it. */
export interface StateMeaning {
  /** The settings that decide what the stored state means; a restart that changes one is refused. */
  readonly config?: Readonly<Record<string, StateConfigValue>>;
  /** The version of the stored values (default 1). */
  readonly version?: number;
}

/**
 * A stream whose operator keeps keyed state in a {@link StateStore}: the store is opened when the
 * context starts, under the operator's stable id, on the operator's own `stateBackend` or the
 * context's default one; the backend commits it with every batch.
 *
 * The stable id is the operator's `name`, or, unnamed, `kind#n` where n counts the stateful
 * operators of its kind created before it: stateless operators added, removed or moved around it
 * leave it unchanged, so an upgraded program keeps the state. Name every stateful operator of a
 * checkpointed job, so that adding another of the same kind before it cannot shift it.
 */
export abstract class StatefulDStream<T> extends DStream<T> {
  #store: StateStore | undefined;
  readonly #meaning: StateDescriptor;

  /**
   * @throws TypeError when another stateful operator of the graph has the same name, or when the
   * context is checkpointed and `stateBackend` is not the checkpoint's.
   */
  protected constructor(options: {
    readonly kind: string;
    readonly graph: DStreamGraph;
    readonly parents: readonly DStream<unknown>[];
    readonly name?: string | undefined;
    readonly slideDuration?: Duration;
    readonly stateBackend?: StateBackend | undefined;
    readonly state?: StateMeaning;
  }) {
    super({ ...options, name: uniqueStatefulName(options) });
    this.#meaning = { config: options.state?.config ?? {}, version: options.state?.version ?? 1 };
    const backend = options.stateBackend;
    checkStateBackendOption(this.graph, this.describe, backend);
    this.graph.services.onStart(async () => {
      this.#store = await openStore(this.graph, this.describe, backend);
    });
  }

  override stateDescriptor(): StateDescriptor {
    return this.#meaning;
  }

  /** The operator's store: its backend commits it with every batch (throws before the context has started). */
  get store(): StateStore {
    if (this.#store === undefined) {
      throw new TypeError(`The state of ${this.describe} is not open: start the streaming context first.`);
    }
    return this.#store;
  }

  /**
   * Adds the operator's state size once the batch has committed to the batch's progress event:
   * `stateRows`, the keys it holds ({@link keysIn} of the store's stats, or the `stateRows` an
   * operator that counts its own passes), and `stateBytes`, the approximate bytes of every row
   * it stores (index and deadline rows included), where the store knows them.
   */
  protected reportState(bc: BatchContext, extra: { readonly lateRecordsDropped?: number; readonly duplicatesDropped?: number; readonly stateRows?: number } = {}): void {
    bc.reportOperator(() => {
      const stats = this.store.stats();
      const keys = extra.stateRows ?? this.keysIn(stats);
      return {
        operator: this.describe,
        ...(keys === undefined ? {} : { stateRows: keys }),
        ...(stats.bytes === undefined ? {} : { stateBytes: stats.bytes }),
        ...extra,
      };
    });
  }

  /**
   * The keys (entries) the operator holds, from its store's committed stats, for `stateRows`:
   * by default every row. An operator that keeps other rows beside each key's entry (deadlines,
   * timers, a version) counts the namespace of its entries (`stats.namespaces`); undefined when
   * the store cannot tell.
   */
  protected keysIn(stats: StoreStats): number | undefined {
    return stats.rows;
  }

  /**
   * Decodes the stored entry of the key stored as `key` into the operator's state value (for
   * queryable state), at the operator's state version.
   */
  abstract stateOf(entry: unknown, key: StoreKey): unknown;
}

/**
 * The stable id of a new stateful operator: its name, or `kind#n`. Checked before the operator
 * joins the graph, since its state is stored and queried under that id.
 *
 * @throws TypeError when a stateful operator of the graph already has that id.
 */
function uniqueStatefulName(options: { readonly kind: string; readonly graph: DStreamGraph; readonly name?: string | undefined }): string {
  const { kind, graph, name } = options;
  const stateful = graph.nodes.filter((node) => node.stateDescriptor() !== undefined);
  const id = name ?? `${kind}#${stateful.filter((node) => node.kind === kind).length}`;
  const taken = stateful.find((node) => node.describe === id);
  if (taken !== undefined) {
    throw new TypeError(
      `${kind}: a stateful operator named '${id}' already exists (a ${taken.kind}); give one of them another name (its name option; for mapWithState, its spec's name()), since each operator's state is stored under its name.`,
    );
  }
  return id;
}
