import type { RecordErrors } from '../error-policy.js';
import type { Time } from '../time.js';

/** Work that runs in the driver (it reads or changes what only the driver holds: a window's buffers). */
export type Task<R> = () => R;

/** What a task function may use besides its input: fixed by the batch's plan, the same on every thread. */
export interface TaskContext {
  readonly batchId: number;
  readonly batchTime: Time;
  /** Where the task counts the records its operators set aside (`ErrorPolicy.reject`). */
  readonly recordErrors: RecordErrors;
}

/** What one stage of tasks did, as an executor that runs tasks elsewhere reports it. */
export interface StageProgress {
  /** The stage: the operator and its step (`reduceByKey#4/map`). */
  readonly stage: string;
  /** Tasks run (one per input). */
  readonly tasks: number;
  /** Tasks run again after their worker failed or died. */
  readonly retried: number;
  /** Copies of slow tasks started on another worker (the first result is used). */
  readonly speculated: number;
  /** The stage's time, from its first task sent to its last result, in ms. */
  readonly millis: number;
  /**
   * For a keyed state stage: the state rows sent to the workers with the tasks (a worker that did
   * not hold them: a first run, a steal, a fresh worker, after a failed batch).
   */
  readonly stateRowsShipped?: number;
  /** For a keyed state stage: the state rows not sent, because the task's worker held them (locality). */
  readonly stateRowsCached?: number;
  /** For a keyed state stage: tasks run again, whole, because the worker that took them did not hold their state. */
  readonly stateMisses?: number;
}

/** The batch a stage runs for: its task context, and where the executor reports the stage's figures. */
export interface StageContext extends TaskContext {
  /** Adds a stage's figures to the batch's progress event (`BatchProgress.tasks`). */
  reportStage(figures: StageProgress): void;
}

/**
 * How a step's input and result cross to another thread, where they are not plain data (a state
 * store, a class instance). Only executors that run tasks elsewhere call it: inline, the task
 * gets the input as it is.
 */
export interface TaskWire<I, R> {
  /** In the driver: the input as data that a structured clone carries. */
  sendInput(input: I): unknown;
  /** In the worker: the input the task function takes, from what `sendInput` gave. */
  receiveInput(wire: unknown): I;
  /** In the worker: the result as data, given the input the task ran on. */
  sendResult(result: R, input: I): unknown;
  /** In the driver: the result, given what `sendResult` gave and the driver's own input (to apply state writes to). */
  receiveResult(wire: unknown, input: I): R;
  /**
   * In the driver, for a step whose workers keep a cache (keyed state that stays local): the
   * worker the task should run on, the one that holds its state (`undefined`: any). Asked before
   * `sendInput`, which may then leave out what that worker holds.
   */
  prefer?(input: I): number | undefined;
  /**
   * In the driver: whether the worker answered that it does not hold what `sendInput` left out
   * (another worker took the task, or a fresh one replaced its worker). The executor then runs the
   * task again, and `sendInput` sends it whole; `receiveResult` is not called for the miss.
   */
  missed?(wire: unknown, input: I): boolean;
  /**
   * In the driver: the task will run on another worker than {@link prefer} gave (a steal, a
   * speculative copy, a retry elsewhere), so the next `sendInput` sends it whole.
   */
  elsewhere?(input: I): void;
  /** In the driver, once the task's result is taken: the worker that computed it (0 for a single worker). */
  ranOn?(input: I, worker: number): void;
  /** In the driver, once the task's result is taken: the state rows the send that produced it carried, and those it left out because the worker held them. */
  shipped?(input: I): { readonly rows: number; readonly cached: number };
}

/**
 * One step of an operator that runs once per partition (a stage): a pure function of its input
 * and the batch's task context, registered on the graph under the operator's node id and a name,
 * so that a worker that built the same graph from the job module finds the same function (see
 * `defineTaskStep`). Whatever the function's operator sets aside goes to the task context's
 * `recordErrors`.
 */
export interface TaskStep<I, R> {
  /** The id of the node that registered it. */
  readonly node: number;
  /** Its name, unique within the node (`map`, `reduce`, `update`). */
  readonly name: string;
  /** The stage's name in figures and logs: `<operator>/<name>`. */
  readonly stage: string;
  readonly run: (input: I, context: TaskContext) => R;
  readonly wire?: TaskWire<I, R> | undefined;
}

/**
 * Runs the tasks of a batch. `runStage` runs one task per input of a registered step, wherever
 * the executor runs tasks (inline, on worker threads); `run` runs work that stays in the driver.
 * Both resolve with results in input order, and reject with a task's error.
 */
export interface Executor {
  /** Runs every task in the driver and resolves with their results in task order; rejects with the first error. */
  run<R>(tasks: readonly Task<R>[]): Promise<R[]>;
  /**
   * Runs `step` once per input and resolves with the results in input order; the records the
   * tasks set aside end up in `context.recordErrors` in input order, as if the tasks had run
   * one after another in the driver.
   */
  runStage<I, R>(step: TaskStep<I, R>, inputs: readonly I[], context: StageContext): Promise<R[]>;
}

/** Runs tasks one after another on the calling thread, on the inputs as they are (no copy). */
export class InlineExecutor implements Executor {
  // eslint-disable-next-line @typescript-eslint/require-await -- async turns a throwing task into a rejection
  async run<R>(tasks: readonly Task<R>[]): Promise<R[]> {
    return tasks.map((task) => task());
  }

  // eslint-disable-next-line @typescript-eslint/require-await -- async turns a throwing task into a rejection
  async runStage<I, R>(step: TaskStep<I, R>, inputs: readonly I[], context: StageContext): Promise<R[]> {
    const run = step.run;
    const out = new Array<R>(inputs.length);
    for (let i = 0; i < inputs.length; i++) out[i] = run(inputs[i] as I, context);
    return out;
  }
}
