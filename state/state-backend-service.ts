import { serviceKey, type DStreamGraph } from '../core/extend.js';
import { MemoryStateBackend } from './memory-state-store.js';
import type { StateBackend, StateStore } from './state-store.js';

/** The state backends of a context: the in-memory default (created when needed) and the stores opened. */
interface ContextBackends {
  memory: MemoryStateBackend | undefined;
  /** Every backend a store was opened on: each commits with the batches and closes with the context. */
  readonly used: Set<StateBackend>;
  /** The operator ids whose stores were opened, so two operators never share one. */
  readonly opened: Set<string>;
}

const BACKENDS = serviceKey<ContextBackends>('state backends');

function backendsOf(graph: DStreamGraph): ContextBackends {
  let backends = graph.services.lookup(BACKENDS);
  if (backends === undefined) {
    const created: ContextBackends = { memory: undefined, used: new Set(), opened: new Set() };
    backends = created;
    graph.services.provide(BACKENDS, created);
    graph.services.onStop(async () => {
      // The checkpoint closes its own backend, after its stores, with its database.
      const own = graph.checkpointer?.stateBackend;
      await Promise.all([...created.used].filter((b) => b !== own).map((b) => b.close()));
    });
  }
  return backends;
}

/**
 * Checks the `stateBackend` option of the stateful operator `operator`: with a checkpoint, only
 * the checkpoint's own backend (or none) is allowed, since the checkpoint keeps the state that a
 * restart restores.
 *
 * @throws TypeError when the context is checkpointed and `backend` is another one.
 */
export function checkStateBackendOption(graph: DStreamGraph, operator: string, backend: StateBackend | undefined): void {
  const checkpointer = graph.checkpointer;
  if (backend === undefined || checkpointer === undefined || backend === checkpointer.stateBackend) return;
  throw new TypeError(
    `${operator}: this context is checkpointed, and a checkpointed context keeps every operator's state in its checkpoint so that a restart restores it exactly once; remove the stateBackend option of ${operator} (or the checkpoint).`,
  );
}

/**
 * Opens the store of the stateful operator `operatorId` on `backend` (the operator's own), or on
 * the context's default backend (its `stateBackend` option, its checkpoint's, or one in memory).
 * The backend takes part in every batch's commit from then on, and closes when the context stops.
 *
 * @throws TypeError when two stateful operators share a name.
 */
export async function openStore(graph: DStreamGraph, operatorId: string, backend: StateBackend | undefined): Promise<StateStore> {
  const backends = backendsOf(graph);
  if (backends.opened.has(operatorId)) {
    throw new TypeError(`Two stateful operators are named '${operatorId}'; give each a unique name, since its state is stored under it.`);
  }
  backends.opened.add(operatorId);
  const chosen = backend ?? graph.stateBackend ?? (backends.memory ??= new MemoryStateBackend());
  if (!backends.used.has(chosen)) {
    backends.used.add(chosen);
    graph.addCommitParticipant(chosen);
  }
  return chosen.open(operatorId);
}
