import { serialize } from 'node:v8';
import type { DStreamGraph } from '../graph.js';
import type { Executor, StageContext, Task, TaskStep } from '../scheduler/executor.js';
import { payloadOf, resultOf, runPayload, type TaskReply } from './task-wire.js';

/**
 * An executor for tests: it runs every task as a worker would, on the same thread. Each task's
 * payload is copied by structured clone (as `postMessage` copies it), run on `graph` (a second
 * graph built from the same job, whose user functions are other closures), and its reply copied
 * back. Keyed state steps keep their cache in the second graph, as one worker does. A task that
 * reads or changes anything of the driver's besides its input and result (a closure over a
 * driver's variable, a shared map) then gives another result than inline.
 *
 * @example const executor = new SerializingExecutor((await job.create()).graph); await job.create({ executor });
 */
export class SerializingExecutor implements Executor {
  readonly #graph: () => DStreamGraph;
  /** Tasks run through the wire so far. */
  tasks = 0;
  /** The bytes of the tasks' payloads so far (as `v8.serialize` writes them: what a structured clone copies). */
  payloadBytes = 0;
  /** Keyed state rows sent with the tasks so far, and rows left out because the worker held them (see `TaskWire.shipped`). */
  stateRowsShipped = 0;
  stateRowsCached = 0;
  /** Tasks whose worker missed their state (always 0 for this one worker, unless the placement is wrong). */
  misses = 0;

  readonly #locality: boolean;

  /**
   * @param graph - the worker's graph, or a function that gives it (called at the first task).
   * @param options.locality - keyed state stays cached in the worker's graph (default true); `false` sends every state task whole.
   */
  constructor(graph: DStreamGraph | (() => DStreamGraph), options: { readonly locality?: boolean } = {}) {
    this.#graph = typeof graph === 'function' ? graph : () => graph;
    this.#locality = options.locality ?? true;
  }

  // eslint-disable-next-line @typescript-eslint/require-await -- async turns a throwing task into a rejection
  async run<R>(tasks: readonly Task<R>[]): Promise<R[]> {
    return tasks.map((task) => task());
  }

  // eslint-disable-next-line @typescript-eslint/require-await -- async turns a throwing task into a rejection
  async runStage<I, R>(step: TaskStep<I, R>, inputs: readonly I[], context: StageContext): Promise<R[]> {
    const graph = this.#graph();
    const wire = step.wire;
    const replies = inputs.map((input) => {
      let reply = this.#send(graph, step, input, context);
      // The one worker holds every key group it ran: a miss would be a bug of the placement, which the whole task then covers.
      if (wire?.missed?.(reply.result, input) === true) {
        this.misses++;
        reply = this.#send(graph, step, input, context);
      }
      return reply;
    });
    return replies.map((reply, i) => {
      const result = resultOf(step, reply, inputs[i] as I, context);
      if (this.#locality) wire?.ranOn?.(inputs[i] as I, 0);
      // What the send whose result was taken carried.
      const shipped = wire?.shipped?.(inputs[i] as I);
      if (shipped !== undefined) {
        this.stateRowsShipped += shipped.rows;
        this.stateRowsCached += shipped.cached;
      }
      return result;
    });
  }

  #send<I, R>(graph: DStreamGraph, step: TaskStep<I, R>, input: I, context: StageContext): TaskReply {
    this.tasks++;
    const payload = payloadOf(step, input, context);
    const copy = structuredClone(payload);
    this.payloadBytes += serialize(payload).length;
    return structuredClone<TaskReply>(runPayload(graph, copy));
  }
}
