import type { DStream } from '../dstream.js';
import type { TaskContext, TaskStep, TaskWire } from './executor.js';

/**
 * Registers a task step of `node` (see {@link TaskStep}) and returns it, for
 * `bc.executor.runStage(step, inputs, bc)`. Call it when the node is built (in its constructor or
 * its operator function), never while a batch runs: a worker builds the graph from the job
 * module and finds the step by node id and name. `run` must depend only on its input, the task
 * context and what the node was built with (user functions, options), and must not change
 * anything outside its result: it may run on another thread, or twice.
 *
 * @throws TypeError when the node already registered a step named `name`.
 */
export function defineTaskStep<I, R>(node: DStream<unknown>, name: string, run: (input: I, context: TaskContext) => R, wire?: TaskWire<I, R>): TaskStep<I, R> {
  const step: TaskStep<I, R> = Object.freeze({ node: node.id, name, stage: `${node.describe}/${name}`, run, wire });
  node.graph.addTaskStep(step as unknown as TaskStep<never, unknown>);
  return step;
}
