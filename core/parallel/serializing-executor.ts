import type { DStreamGraph } from '../graph.js';
import type { Executor, StageContext, Task, TaskStep } from '../scheduler/executor.js';
import { payloadOf, resultOf, runPayload, type TaskReply } from './task-wire.js';

/**
 * An executor for tests: it runs every task as a worker would, on the same thread. Each task's
 * payload is copied by structured clone (as `postMessage` copies it), run on `graph` (a second
 * graph built from the same job, whose user functions are other closures), and its reply copied
 * back. A task that reads or changes anything of the driver's besides its input and result (a
 * closure over a driver's variable, a shared map) then gives another result than inline.
 *
 * @example const executor = new SerializingExecutor((await job.create()).graph); await job.create({ executor });
 */
export class SerializingExecutor implements Executor {
  readonly #graph: () => DStreamGraph;
  /** Tasks run through the wire so far. */
  tasks = 0;

  /** @param graph - the worker's graph, or a function that gives it (called at the first task). */
  constructor(graph: DStreamGraph | (() => DStreamGraph)) {
    this.#graph = typeof graph === 'function' ? graph : () => graph;
  }

  // eslint-disable-next-line @typescript-eslint/require-await -- async turns a throwing task into a rejection
  async run<R>(tasks: readonly Task<R>[]): Promise<R[]> {
    return tasks.map((task) => task());
  }

  // eslint-disable-next-line @typescript-eslint/require-await -- async turns a throwing task into a rejection
  async runStage<I, R>(step: TaskStep<I, R>, inputs: readonly I[], context: StageContext): Promise<R[]> {
    const graph = this.#graph();
    const replies = inputs.map((input) => {
      this.tasks++;
      return structuredClone<TaskReply>(runPayload(graph, structuredClone(payloadOf(step, input, context))));
    });
    return replies.map((reply, i) => resultOf(step, reply, inputs[i] as I, context));
  }
}
