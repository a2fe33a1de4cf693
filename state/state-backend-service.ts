import { serviceKey, type CommitParticipant, type DStreamGraph, type StreamingContext } from 'sluice';
import { MemoryStateBackend } from './memory-state-store.js';
import type { StateBackend, StateStore } from './state-store.js';

/** The state backend of a context, with the stores it has opened. */
interface BackendRegistration {
  readonly backend: StateBackend;
  readonly participant: CommitParticipant;
  readonly opened: Map<string, Promise<StateStore>>;
}

const STATE_BACKEND = serviceKey<BackendRegistration>('state backend');

/**
 * Makes `backend` hold the state of every stateful operator of `ctx` (the default, without one,
 * is in memory). Call it before `start()`; the context closes the backend when it stops.
 *
 * @throws TypeError when the context has already started.
 * @example useStateBackend(ctx, await LevelStateBackend.open('./state'))
 */
export function useStateBackend(ctx: StreamingContext, backend: StateBackend): void {
  if (ctx.state !== 'initialized') throw new TypeError('useStateBackend: call it before the streaming context starts.');
  register(ctx.graph, backend);
}

/**
 * Makes `backend` hold the state of the graph's stateful operators (for extensions such as
 * checkpoints, before the context starts; applications use {@link useStateBackend}).
 */
export function provideStateBackend(graph: DStreamGraph, backend: StateBackend): void {
  register(graph, backend);
}

/** The backend registration of `graph`, registering the in-memory backend if there is none. */
export function backendOf(graph: DStreamGraph): BackendRegistration {
  return graph.services.lookup(STATE_BACKEND) ?? register(graph, new MemoryStateBackend());
}

function register(graph: DStreamGraph, backend: StateBackend): BackendRegistration {
  const previous = graph.services.lookup(STATE_BACKEND);
  if (previous !== undefined && previous.opened.size > 0) {
    throw new TypeError('useStateBackend: stores were already opened on another backend.');
  }
  const registration: BackendRegistration = {
    backend,
    participant: {
      commit: (batchId) => backend.commit(batchId),
      abort: (batchId) => {
        backend.abort(batchId);
      },
    },
    opened: new Map(),
  };
  graph.services.provide(STATE_BACKEND, registration);
  if (previous === undefined) {
    graph.services.onStop(async () => {
      const current = graph.services.lookup(STATE_BACKEND);
      await current?.backend.close();
    });
  }
  return registration;
}

/** An operator's open store and the participant that commits it with the batch. */
export interface OpenedStore {
  readonly store: StateStore;
  readonly participant: CommitParticipant;
}

/**
 * Opens the store of the stateful operator `operatorId` on the context's backend, once.
 *
 * @throws TypeError when two stateful operators share a name.
 */
export async function openStore(graph: DStreamGraph, operatorId: string): Promise<OpenedStore> {
  const registration = backendOf(graph);
  if (registration.opened.has(operatorId)) {
    throw new TypeError(`Two stateful operators are named '${operatorId}'; give each a unique name, since its state is stored under it.`);
  }
  const store = registration.backend.open(operatorId);
  registration.opened.set(operatorId, store);
  return { store: await store, participant: registration.participant };
}
