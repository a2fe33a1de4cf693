// STAND-IN until the pool of branch h-pool is merged (same interface, no speculation): replaced by it.
import { Worker, type Transferable } from 'node:worker_threads';
import type { Logger } from 'pino';
import { SluiceError, type SluiceErrorCode } from '../errors.js';

/** One task of a stage. */
export interface PoolTask {
  readonly payload: unknown;
  readonly transfer?: readonly Transferable[];
  readonly prefer?: number;
}

/** What a stage did. */
export interface StageFigures {
  readonly tasks: number;
  readonly retried: number;
  readonly speculated: number;
  readonly millis: number;
  readonly workerOf: readonly number[];
}

interface Slot {
  worker: Worker;
  busy: boolean;
  hello: Promise<unknown>;
}

/** A pool of worker threads that run the tasks of a stage (stand-in). */
export class WorkerPool {
  readonly size: number;
  readonly #options: { readonly size: number; readonly script: URL; readonly workerData?: unknown; readonly logger?: Logger; readonly maxAttempts?: number };
  #slots: Slot[] = [];
  #closed = false;

  constructor(options: { readonly size: number; readonly script: URL; readonly workerData?: unknown; readonly logger?: Logger; readonly maxAttempts?: number; readonly speculation?: unknown }) {
    this.size = options.size;
    this.#options = options;
  }

  start(): Promise<unknown[]> {
    this.#slots = Array.from({ length: this.size }, () => this.#spawn());
    return Promise.all(this.#slots.map((s) => s.hello));
  }

  #spawn(): Slot {
    const worker = new Worker(this.#options.script, { workerData: this.#options.workerData });
    const hello = new Promise<unknown>((resolve, reject) => {
      const onMessage = (m: { hello?: unknown }): void => {
        if ('hello' in m) {
          worker.off('message', onMessage);
          worker.off('error', reject);
          resolve(m.hello);
        }
      };
      worker.on('message', onMessage);
      worker.once('error', (error: Error) => { reject(error); });
    });
    return { worker, busy: false, hello };
  }

  runStage<R>(name: string, tasks: readonly PoolTask[]): Promise<{ results: R[]; figures: StageFigures }> {
    const started = performance.now();
    const results = new Array<R>(tasks.length);
    const workerOf = new Array<number>(tasks.length).fill(-1);
    const attempts = new Array<number>(tasks.length).fill(0);
    const queue = tasks.map((_, i) => i);
    let done = 0;
    let retried = 0;
    const maxAttempts = this.#options.maxAttempts ?? 3;
    return new Promise((resolve, reject) => {
      let failed = false;
      const fail = (error: Error): void => {
        if (!failed) {
          failed = true;
          reject(error);
        }
      };
      const pump = (): void => {
        if (failed) return;
        if (done === tasks.length) {
          resolve({ results, figures: { tasks: tasks.length, retried, speculated: 0, millis: performance.now() - started, workerOf } });
          return;
        }
        this.#slots.forEach((slot, w) => {
          if (slot.busy || queue.length === 0) return;
          const index = queue.shift() as number;
          slot.busy = true;
          attempts[index] = (attempts[index] ?? 0) + 1;
          const task = tasks[index] as PoolTask;
          const cleanup = (): void => {
            slot.worker.off('message', onMessage);
            slot.worker.off('exit', onExit);
            slot.busy = false;
          };
          const onMessage = (m: { ok: boolean; result?: unknown; error?: Record<string, unknown> }): void => {
            cleanup();
            if (m.ok) {
              results[index] = m.result as R;
              workerOf[index] = w;
              done++;
              pump();
            } else {
              this.#options.logger?.error({ stage: name, task: index, worker: w }, `task ${index} of stage ${name} failed on worker ${w}`);
              fail(errorFrom(m.error ?? {}));
            }
          };
          const onExit = (): void => {
            cleanup();
            if (this.#closed) return;
            this.#options.logger?.warn({ stage: name, task: index, worker: w }, `worker ${w} died running task ${index} of stage ${name}: retrying`);
            const fresh = this.#spawn();
            // Busy until its hello: a task sent before would meet the hello as its reply.
            fresh.busy = true;
            this.#slots[w] = fresh;
            fresh.hello.then(() => {
              fresh.busy = false;
              if ((attempts[index] ?? 0) >= maxAttempts) {
                fail(new SluiceError('BATCH_FAILED', `task ${index} of stage ${name} failed ${maxAttempts} times: its worker died each time`));
                return;
              }
              retried++;
              queue.unshift(index);
              pump();
            }, fail);
          };
          slot.worker.on('message', onMessage);
          slot.worker.on('exit', onExit);
          slot.worker.postMessage({ stage: name, index, attempt: attempts[index], payload: task.payload }, [...(task.transfer ?? [])]);
        });
      };
      pump();
    });
  }

  /** The worker threads (stand-in only: for tests that terminate one). */
  get workers(): readonly Worker[] {
    return this.#slots.map((s) => s.worker);
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(this.#slots.map((s) => s.worker.terminate()));
  }
}

function errorFrom(e: Record<string, unknown>): Error {
  if (e.name === 'SluiceError') {
    const error = new SluiceError(e.code as SluiceErrorCode, String(e.message), { operator: e.operator as string, batchId: e.batchId as number, batchTime: e.batchTime as number, source: e.source as string, site: e.site as string, cause: causeFrom(e.cause) });
    return error;
  }
  return Object.assign(new Error(String(e.message)), { name: String(e.name) });
}

function causeFrom(cause: unknown): unknown {
  if (typeof cause !== 'object' || cause === null) return cause;
  const c = cause as { name?: unknown; message?: unknown };
  return Object.assign(new Error(String(c.message)), { name: String(c.name) });
}
