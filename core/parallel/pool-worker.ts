import { parentPort, type MessagePort, type Transferable } from 'node:worker_threads';
import { packValue, unpackValue } from './payload-codec.js';
import { toWire } from './task-errors.js';
import { EXIT_UNREADABLE_MESSAGE, type FromWorker, type ToWorker } from './wire.js';

/** What a task handler learns about the task besides its payload. */
export interface TaskMeta {
  /** The name of the stage the task belongs to (as given to `WorkerPool.runStage`). */
  readonly stage: string;
  /** The task's index in its stage. */
  readonly index: number;
  /** 1 for a task's first run, then 2, 3 ... for a retry or a speculative copy. */
  readonly attempt: number;
}

/** What a worker learns when it starts. */
export interface WorkerInfo {
  /** This worker's index in its pool (0 to size - 1); a replacement takes the index of the worker it replaces. */
  readonly index: number;
}

/** A task result with the buffers to move to the driver rather than copy; see {@link transferable}. */
export class TransferableResult<T = unknown> {
  /**
   * @param value The result.
   * @param transfer The `ArrayBuffer`s (or ports) inside `value` to move; the worker must not use them afterwards.
   */
  constructor(
    readonly value: T,
    readonly transfer: readonly Transferable[],
  ) {}
}

/**
 * Marks a task result whose buffers move to the driver instead of being copied, for a handler
 * of {@link serveTasks} to return.
 *
 * @example
 * ```ts
 * const bytes = pack(records); // a Buffer that owns its ArrayBuffer
 * return transferable(bytes, [bytes.buffer]);
 * ```
 */
export function transferable<T>(value: T, transfer: readonly Transferable[]): TransferableResult<T> {
  return new TransferableResult(value, transfer);
}

/** Runs a task; the result may be a {@link TransferableResult}. */
export type TaskHandler = (payload: unknown, meta: TaskMeta) => unknown;

/**
 * Serves a `WorkerPool` from the worker thread it started (call it once, at the top level of the
 * pool's `script`). `hello` runs first, once the pool has told the worker its index; what it
 * returns (or resolves with) is the worker's hello value, which `WorkerPool.start()` returns (and
 * the pool's `acceptHello` may check); if it throws, the worker failed to start. Then each task's
 * payload goes to `handler`, one task at a time, in the order they came; what it returns (or
 * resolves with) is the task's result, and what it throws (or rejects with) fails the task's
 * stage, re-created in the driver with its class, message, stack and (for a `SluiceError`) code
 * and context. Results and payloads cross the thread as msgpack bytes when msgpack carries them
 * exactly as a structured clone would (plain data), else by structured clone; a result that
 * cannot be cloned fails its task (a `DataCloneError`).
 *
 * @throws TypeError when not called inside a worker thread.
 */
export function serveTasks(hello: (info: WorkerInfo) => unknown, handler: TaskHandler): void {
  const port = parentPort;
  if (port === null) throw new TypeError('serveTasks(...) serves a WorkerPool: call it in the script a WorkerPool starts as a worker thread, not in the main thread.');
  // A task that cannot be deserialized: exiting makes the pool run it on another worker.
  port.on('messageerror', () => process.exit(EXIT_UNREADABLE_MESSAGE));
  const onInit = (message: ToWorker): void => {
    if (message.t !== 'init') return;
    port.off('message', onInit);
    const tasks = new TaskRunner(port, handler, message.pack);
    Promise.resolve()
      .then(() => hello({ index: message.index }))
      .then(
        (value) => {
          post(port, { t: 'hello', value });
          port.on('message', (task: ToWorker) => {
            if (task.t === 'task') tasks.receive(task);
          });
        },
        (error: unknown) => { post(port, { t: 'helloFailed', error: toWire(error) }); },
      );
  };
  port.on('message', onInit);
}

type TaskMessage = Extract<ToWorker, { t: 'task' }>;

/** Runs tasks one at a time: a task that came while an asynchronous one runs waits for it. */
class TaskRunner {
  readonly #port: MessagePort;
  readonly #handler: TaskHandler;
  /** Whether results that msgpack carries exactly go as msgpack bytes. */
  readonly #pack: boolean;
  readonly #waiting: TaskMessage[] = [];
  #busy = false;

  constructor(port: MessagePort, handler: TaskHandler, pack: boolean) {
    this.#port = port;
    this.#handler = handler;
    this.#pack = pack;
  }

  receive(task: TaskMessage): void {
    if (this.#busy) this.#waiting.push(task);
    else this.#run(task);
  }

  #run(task: TaskMessage): void {
    let payload: unknown;
    try {
      payload = task.packed ? unpackValue(task.payload as Uint8Array) : task.payload;
    } catch {
      // Bytes this thread cannot read: exiting makes the pool run the task on another worker.
      process.exit(EXIT_UNREADABLE_MESSAGE);
    }
    let result: unknown;
    try {
      result = this.#handler(payload, { stage: task.stage, index: task.index, attempt: task.attempt });
    } catch (error) {
      post(this.#port, { t: 'failed', id: task.id, error: toWire(error) });
      return;
    }
    if (!(result instanceof Promise)) {
      this.#reply(task.id, result);
      return;
    }
    this.#busy = true;
    result
      .then(
        (value: unknown) => { this.#reply(task.id, value); },
        (error: unknown) => { post(this.#port, { t: 'failed', id: task.id, error: toWire(error) }); },
      )
      .finally(() => {
        this.#busy = false;
        while (!this.#busy && this.#waiting.length > 0) this.#run(this.#waiting.shift() as TaskMessage);
      });
  }

  #reply(id: number, result: unknown): void {
    const moved = result instanceof TransferableResult;
    const bytes = this.#pack && !moved ? packValue(result) : undefined;
    const value: unknown = moved ? result.value : (bytes ?? result);
    // The packed bytes are this reply's own: moved, not copied.
    const transfer = moved ? result.transfer : bytes === undefined ? [] : [bytes.buffer];
    try {
      this.#port.postMessage({ t: 'done', id, value, packed: bytes !== undefined } satisfies FromWorker, transfer as Transferable[]);
    } catch (error) {
      post(this.#port, { t: 'failed', id, error: toWire(error) });
    }
  }
}

function post(port: MessagePort, message: FromWorker): void {
  try {
    port.postMessage(message);
  } catch (error) {
    // Only a hello value that cannot be cloned gets here (an error's parts always can).
    port.postMessage({ t: 'helloFailed', error: toWire(error) } satisfies FromWorker);
  }
}
