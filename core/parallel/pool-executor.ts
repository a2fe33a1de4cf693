import type { Executor, StageContext, Task, TaskStep } from '../scheduler/executor.js';
import { inputSize, payloadOf, resultOf, type TaskReply } from './task-wire.js';
import type { PoolTask, StageFigures as PoolStageFigures } from './worker-pool.js';

/** What the executor needs of a worker pool (`WorkerPool`). */
export interface TaskPool {
  runStage<R>(name: string, tasks: PoolTask[]): Promise<{ results: R[]; figures: PoolStageFigures }>;
}

/**
 * Runs each stage's tasks on a pool of worker threads, each of which built the job's graph from
 * its module (see `runJob`): a task travels as its step's node id and name and its input; the
 * reply brings the result and the records the task set aside, merged in task order. Work that
 * stays in the driver (`run`) runs inline. Each stage's figures go to the batch's progress event.
 */
export class PoolExecutor implements Executor {
  readonly #pool: TaskPool;

  constructor(pool: TaskPool) {
    this.#pool = pool;
  }

  // eslint-disable-next-line @typescript-eslint/require-await -- async turns a throwing task into a rejection
  async run<R>(tasks: readonly Task<R>[]): Promise<R[]> {
    return tasks.map((task) => task());
  }

  async runStage<I, R>(step: TaskStep<I, R>, inputs: readonly I[], context: StageContext): Promise<R[]> {
    if (inputs.length === 0) return [];
    const tasks = inputs.map((input): PoolTask => ({ payload: payloadOf(step, input, context), size: inputSize(input) }));
    const { results, figures } = await this.#pool.runStage<TaskReply>(step.stage, tasks);
    context.reportStage({ stage: step.stage, tasks: figures.tasks, retried: figures.retried, speculated: figures.speculated, millis: figures.millis });
    return results.map((reply, i) => resultOf(step, reply, inputs[i] as I, context));
  }
}
