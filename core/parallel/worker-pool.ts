import { performance } from 'node:perf_hooks';
import { Worker, type ResourceLimits, type Transferable } from 'node:worker_threads';
import type { Logger } from 'pino';
import { messageOf, SluiceError } from '../errors.js';
import { silentLogger } from '../logger.js';
import { packValue, unpackValue } from './payload-codec.js';
import { StageRun, type Attempt, type PoolTask, type StageFigures } from './stage-run.js';
import { reviveError, type WireError } from './task-errors.js';
import type { FromWorker, ToWorker } from './wire.js';

export type { PoolTask, StageFigures } from './stage-run.js';

/*
 * A pool of worker threads that run the tasks of stages: each free worker pulls the next task
 * (dynamic balancing, locality by `prefer`, then stealing); a task whose worker dies runs again
 * elsewhere and a fresh worker replaces the dead one; a straggler gets a speculative copy on an
 * idle worker and the first result wins. Tasks must be deterministic: a retried or speculated task
 * must give the same result as its first run. A worker known to be slow (its tasks take a
 * multiple of their stages' medians) gets its running task copied early and runs no copies.
 * Over 400 lines: the scheduler's parts (dispatch, retry, speculation, pace) share its slots and
 * stages, and read best together; the stage bookkeeping is in stage-run.ts, the wire in
 * payload-codec.ts.
 */

/** When a straggler gets a speculative copy; see {@link WorkerPoolOptions.speculation}. */
export interface SpeculationOptions {
  /** The share of a stage's tasks that must be done first (0 < q ≤ 1). Default 0.75. */
  readonly quantile?: number;
  /** How many times the median duration of the done tasks a task must have run (≥ 1). Default 1.5. */
  readonly multiplier?: number;
  /** And at least this many ms. Default 50. */
  readonly minMillis?: number;
  /**
   * A worker whose tasks take this many times their stages' median, on average over its recent
   * tasks, is known to be slow (≥ 1; `Infinity` for never). Its running task gets a copy on an
   * idle worker as soon as every task of its stage has started and it has run for the median,
   * without waiting for `quantile` or `multiplier`; it never gets a speculative copy itself; and
   * it takes a new task only while a stage has more tasks waiting than its pace times the other
   * workers (they would finish them before it finished one). Default 2.
   */
  readonly slowWorker?: number;
}

/** The options of a {@link WorkerPool}. */
export interface WorkerPoolOptions {
  /** The number of worker threads (an integer ≥ 1). */
  readonly size: number;
  /** The module each worker runs: it calls `serveTasks` once. A `.js`/`.mjs` file (workers do not run TypeScript). */
  readonly script: URL;
  /** Given to every worker (and every replacement) as `workerData`, by structured clone. */
  readonly workerData?: unknown;
  /** Gets a warning for each worker that fails (naming it, the reason and its tasks). Default: silent. */
  readonly logger?: Logger;
  /** How many times a task may lose its worker before its stage fails with `WORKER_FAILED`. Default 3. */
  readonly maxAttempts?: number;
  /** Straggler speculation, or `false` for none. Default: on, with the defaults of {@link SpeculationOptions}. */
  readonly speculation?: false | SpeculationOptions;
  /**
   * Tasks sent to a worker before it has answered the earlier ones (1 or 2). 2 hides the message
   * round trip between tasks (10 to 15 µs a task in bench/worker-transfer.mjs: worth it for stages
   * of many tiny tasks) but commits the second task to a busy worker before it is free, against
   * dynamic balancing and locality. Default 1.
   */
  readonly tasksInFlight?: 1 | 2;
  /** Checks a worker's hello value (a graph fingerprint, say); what it throws fails that worker's start. */
  readonly checkHello?: (hello: unknown, index: number) => void;
  /**
   * Node options of the worker threads. Default: the process's own, less those a worker thread
   * cannot take (V8 options such as `--expose-gc` or `--max-old-space-size`, which apply to the
   * whole process; use `resourceLimits` for a worker's heap).
   */
  readonly execArgv?: readonly string[];
  /** Memory limits of each worker thread. */
  readonly resourceLimits?: ResourceLimits;
  /**
   * How payloads and results cross the thread. `'msgpack'` (the default): as msgpack bytes when
   * msgpack carries the value exactly as a structured clone would (plain data: see
   * `payload-codec.ts`) and it holds many small objects (a partition of records, where msgpack
   * is faster), else by structured clone (flat arrays and small values, where the clone is); a task's payload is packed once and its bytes
   * copied to each run (a retry, a speculative copy). `'clone'`: always by structured clone.
   * bench/README.md (S8) has the figures that chose the default.
   */
  readonly wire?: 'msgpack' | 'clone';
}

interface Slot {
  readonly index: number;
  worker: Worker | undefined;
  state: 'starting' | 'ready' | 'dead';
  /** Attempts sent to the worker, in order; the first is the one it runs. */
  queue: Attempt[];
  /** Fails the worker's start (close() while it starts). */
  abortStart: ((error: unknown) => void) | undefined;
  /** Its recent tasks' durations over their stages' medians (a moving average), and how many it has seen. */
  pace: number;
  paced: number;
}

/** How much of a worker's pace its newest task makes. */
const PACE_WEIGHT = 0.2;
/** Tasks a worker must have finished before its pace says it is slow. */
const PACE_SAMPLES = 5;

/** The passes of dispatch: a worker's own tasks, then tasks no live worker is preferred for (1), then any. */
const OWN = 0;
const STEAL = 2;

/**
 * A pool of worker threads that runs stages of tasks; see {@link WorkerPoolOptions} and
 * `serveTasks` for the worker's side. While open, its workers keep the process alive; `close()`
 * ends them.
 *
 * @example
 * ```ts
 * const pool = new WorkerPool({ size: 4, script: new URL('./worker.js', import.meta.url) });
 * await pool.start();
 * const { results, figures } = await pool.runStage<number>('square', [1, 2, 3].map((x) => ({ payload: x })));
 * await pool.close();
 * ```
 */
export class WorkerPool {
  /** The number of workers the pool keeps (fewer when a replacement failed to start). */
  readonly size: number;
  readonly #options: WorkerPoolOptions;
  readonly #logger: Logger;
  readonly #maxAttempts: number;
  readonly #speculation: Required<SpeculationOptions> | undefined;
  readonly #depth: number;
  readonly #pack: boolean;
  readonly #slots: Slot[];
  readonly #attempts = new Map<number, Attempt>();
  #stages: StageRun[] = [];
  #nextId = 0;
  #started = false;
  #closed: Promise<void> | undefined;
  #broken: SluiceError | undefined;
  #timer: NodeJS.Timeout | undefined;

  /** @throws TypeError or RangeError for a bad option, saying which. */
  constructor(options: WorkerPoolOptions) {
    const { size, script, maxAttempts = 3, speculation = {}, tasksInFlight = 1, wire = 'msgpack' } = options;
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`WorkerPool: size must be an integer ≥ 1, got ${String(size)}.`);
    if (!(script instanceof URL)) throw new TypeError('WorkerPool: script must be the URL of the worker module, such as new URL(\'./worker.js\', import.meta.url).');
    if (!Number.isInteger(maxAttempts) || maxAttempts < 1) throw new RangeError(`WorkerPool: maxAttempts must be an integer ≥ 1, got ${String(maxAttempts)}.`);
    if (tasksInFlight !== 1 && tasksInFlight !== 2) throw new RangeError(`WorkerPool: tasksInFlight must be 1 or 2, got ${String(tasksInFlight)}.`);
    if (wire !== 'msgpack' && wire !== 'clone') throw new RangeError(`WorkerPool: wire must be 'msgpack' or 'clone', got ${String(wire)}.`);
    this.#pack = wire === 'msgpack';
    this.size = size;
    this.#options = options;
    this.#logger = options.logger ?? silentLogger();
    this.#maxAttempts = maxAttempts;
    this.#depth = tasksInFlight;
    this.#speculation = speculation === false ? undefined : speculationOptions(speculation);
    this.#slots = Array.from({ length: size }, (_, index) => ({ index, worker: undefined, state: 'dead', queue: [], abortStart: undefined, pace: 1, paced: 0 }));
  }

  /**
   * Starts every worker and waits for each to say hello.
   *
   * @returns Each worker's hello value (what its `serveTasks` hello function returned), by index.
   * @throws SluiceError `WORKER_FAILED` when a worker failed to start (its module or hello threw,
   *   it exited, or `checkHello` refused it); every worker is ended then.
   */
  async start(): Promise<unknown[]> {
    if (this.#started) throw new TypeError('WorkerPool.start() was called twice: start a pool once.');
    this.#started = true;
    const hellos = await Promise.allSettled(this.#slots.map((slot) => this.#spawn(slot)));
    const failed = hellos.findIndex((hello) => hello.status === 'rejected');
    if (failed >= 0) {
      const cause: unknown = (hellos[failed] as PromiseRejectedResult).reason;
      await this.close();
      throw new SluiceError('WORKER_FAILED', `Worker ${failed} of the pool failed to start: ${messageOf(cause)}`, { cause });
    }
    return hellos.map((hello) => (hello as PromiseFulfilledResult<unknown>).value);
  }

  /**
   * Runs the tasks of one stage on the workers and resolves with their results in task order.
   * Stages may run at the same time; they share the workers first come, first served.
   *
   * @throws TypeError before `start()`, RangeError for a `prefer` that is not an integer ≥ 0.
   * Rejects with what a task's handler threw (re-created here; no retry, the stage's other
   * results are ignored); `WORKER_FAILED` when a task lost its worker `maxAttempts` times or no
   * worker is left; `CONTEXT_STOPPED` when the pool is closed before the stage ends.
   */
  runStage<R>(name: string, tasks: readonly PoolTask[]): Promise<{ results: R[]; figures: StageFigures }> {
    if (!this.#started) throw new TypeError('WorkerPool.runStage(...) before start(): await pool.start() first.');
    for (const [i, task] of tasks.entries()) {
      if (task.prefer !== undefined && (!Number.isInteger(task.prefer) || task.prefer < 0)) {
        throw new RangeError(`WorkerPool.runStage("${name}"): task ${i} prefers worker ${String(task.prefer)}; give an integer ≥ 0, or no prefer.`);
      }
    }
    if (this.#closed !== undefined) return Promise.reject(new SluiceError('CONTEXT_STOPPED', `Stage "${name}" cannot run: the worker pool is closed.`));
    if (this.#broken !== undefined) return Promise.reject(this.#broken);
    return new Promise((resolve, reject) => {
      const stage = new StageRun(name, tasks, performance.now(), resolve as (value: { results: unknown[]; figures: StageFigures }) => void, reject);
      if (tasks.length === 0) {
        stage.settled = true;
        resolve({ results: [], figures: { tasks: 0, retried: 0, speculated: 0, millis: 0, workerOf: [] } });
        return;
      }
      this.#stages.push(stage);
      this.#dispatch();
    });
  }

  /**
   * Terminates one worker as a crash would (for fault-injection tests and benchmarks): its tasks
   * run again elsewhere and a fresh worker replaces it. Resolves once it has exited.
   */
  async terminateWorker(index: number): Promise<void> {
    await this.#slots[index]?.worker?.terminate();
  }

  /**
   * Terminates every worker; a stage still running rejects with `CONTEXT_STOPPED`. Idempotent:
   * every call returns the same promise.
   */
  close(): Promise<void> {
    if (this.#closed !== undefined) return this.#closed;
    clearTimeout(this.#timer);
    for (const stage of this.#stages) stage.fail(new SluiceError('CONTEXT_STOPPED', `Stage "${stage.name}" did not finish: the worker pool was closed while it ran.`));
    this.#stages = [];
    this.#attempts.clear();
    const exits: Promise<number>[] = [];
    for (const slot of this.#slots) {
      const worker = slot.worker;
      slot.abortStart?.(new SluiceError('CONTEXT_STOPPED', 'The worker pool was closed while this worker started.'));
      if (worker !== undefined) exits.push(worker.terminate());
      slot.worker = undefined;
      slot.state = 'dead';
      slot.queue = [];
    }
    this.#closed = Promise.all(exits).then(() => undefined);
    return this.#closed;
  }

  /** Starts the worker of `slot`; resolves with its hello value. */
  #spawn(slot: Slot): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const { script, workerData, execArgv, resourceLimits } = this.#options;
      const worker = new Worker(script, { workerData, execArgv: execArgv === undefined ? inheritedExecArgv() : [...execArgv], ...(resourceLimits === undefined ? {} : { resourceLimits }) });
      slot.worker = worker;
      slot.state = 'starting';
      slot.queue = [];
      slot.pace = 1;
      slot.paced = 0;
      const failStart = (reason: unknown): void => {
        if (slot.worker !== worker || slot.state !== 'starting') return;
        slot.worker = undefined;
        slot.state = 'dead';
        slot.abortStart = undefined;
        void worker.terminate();
        reject(reason instanceof Error ? reason : new Error(messageOf(reason), { cause: reason }));
      };
      slot.abortStart = failStart;
      worker.on('message', (message: FromWorker) => {
        if (slot.worker !== worker) return;
        switch (message.t) {
          case 'hello':
            try {
              this.#options.checkHello?.(message.value, slot.index);
            } catch (error) {
              failStart(error);
              return;
            }
            slot.state = 'ready';
            slot.abortStart = undefined;
            resolve(message.value);
            this.#dispatch();
            return;
          case 'helloFailed':
            failStart(reviveError(message.error));
            return;
          case 'done':
            this.#onReply(slot, message.id, message.value, message.packed, undefined);
            return;
          case 'failed':
            this.#onReply(slot, message.id, undefined, false, message.error);
            return;
        }
      });
      const died = (reason: Error): void => {
        if (slot.state === 'starting') failStart(reason);
        else this.#onDeath(slot, worker, reason);
      };
      worker.on('error', died);
      worker.on('messageerror', (error) => { died(new Error(`could not deserialize a message from the worker: ${error.message}`, { cause: error })); });
      worker.on('exit', (code) => {
        const before = slot.state === 'starting' ? ' before it said hello (does its script call serveTasks?)' : '';
        died(new Error(`the worker exited with code ${code}${before}`));
      });
      worker.postMessage({ t: 'init', index: slot.index, pack: this.#pack } satisfies ToWorker);
    });
  }

  #onReply(slot: Slot, id: number, value: unknown, packed: boolean, error: WireError | undefined): void {
    const attempt = this.#attempts.get(id);
    if (attempt === undefined) return;
    this.#attempts.delete(id);
    const now = performance.now();
    const at = slot.queue.indexOf(attempt);
    if (at >= 0) slot.queue.splice(at, 1);
    const head = slot.queue[0];
    if (at === 0 && head !== undefined) head.startedAt = now;
    const stage = attempt.stage;
    stage.drop(attempt);
    if (stage.settled || stage.done[attempt.task] === true) {
      // A late copy still tells how fast its worker is (a slow worker's tasks mostly end so).
      if (error === undefined) this.#pace(slot, stage, now - attempt.startedAt);
      this.#logger.debug({ stage: stage.name, task: attempt.task, worker: slot.index }, 'worker pool: a late copy of a task was discarded');
    } else if (error === undefined) {
      this.#complete(slot, stage, attempt, value, packed, now);
    } else {
      this.#taskFailed(slot, stage, attempt, error);
    }
    this.#dispatch();
  }

  #complete(slot: Slot, stage: StageRun, attempt: Attempt, value: unknown, packed: boolean, now: number): void {
    let result = value;
    if (packed) {
      try {
        result = unpackValue(value as Uint8Array);
      } catch (error) {
        stage.fail(new SluiceError('WORKER_FAILED', `Stage "${stage.name}": the result of task ${attempt.task} from worker ${slot.index} could not be decoded: ${messageOf(error)}`, { cause: error }));
        return;
      }
    }
    stage.complete(attempt, result, now);
    this.#pace(slot, stage, now - attempt.startedAt);
  }

  /** Adds a task of `millis` to the pace of `slot`'s worker. */
  #pace(slot: Slot, stage: StageRun, millis: number): void {
    const median = stage.median();
    if (median <= 0) return;
    slot.pace += PACE_WEIGHT * (millis / median - slot.pace);
    slot.paced++;
  }

  /** Whether `slot`'s worker is known to be slow; see {@link SpeculationOptions.slowWorker}. */
  #slow(slot: Slot): boolean {
    return this.#speculation !== undefined && slot.paced >= PACE_SAMPLES && slot.pace >= this.#speculation.slowWorker;
  }

  /**
   * Fails the stage of a task whose handler threw: the error, re-created here, names the worker
   * (its index and thread id, as own properties `worker` and `threadId`), and so does a warning.
   */
  #taskFailed(slot: Slot, stage: StageRun, attempt: Attempt, wire: WireError): void {
    const threadId = slot.worker?.threadId ?? -1;
    const error = reviveError(wire, { worker: slot.index, threadId });
    this.#logger.warn(
      { stage: stage.name, task: attempt.task, worker: slot.index, threadId, err: error },
      `worker pool: task ${attempt.task} of stage "${stage.name}" failed on worker ${slot.index} (thread ${threadId}); its stage fails`,
    );
    stage.fail(error);
  }

  #onDeath(slot: Slot, worker: Worker, reason: Error): void {
    if (slot.worker !== worker) return;
    slot.worker = undefined;
    slot.state = 'dead';
    void worker.terminate();
    const lost = slot.queue;
    slot.queue = [];
    this.#logger.warn(
      { worker: slot.index, err: reason, tasks: lost.map((a) => `${a.stage.name}#${a.task}`) },
      `worker pool: worker ${slot.index} failed (${reason.message}); its tasks run again on other workers`,
    );
    // Backwards, so that the tasks go back to the front of their queues in the order they had.
    for (let at = lost.length - 1; at >= 0; at--) {
      const attempt = lost[at] as Attempt;
      this.#attempts.delete(attempt.id);
      const stage = attempt.stage;
      stage.drop(attempt);
      if (stage.settled || stage.done[attempt.task] === true || stage.running.has(attempt.task)) continue;
      const what = `Stage "${stage.name}": task ${attempt.task} lost its worker (worker ${slot.index}: ${reason.message})`;
      if (stage.tasks[attempt.task]?.transfer !== undefined) {
        stage.fail(new SluiceError('WORKER_FAILED', `${what}, and cannot run again: its payload's buffers were transferred to that worker.`, { cause: reason }));
        continue;
      }
      // Only the head of the queue ran on the worker; a task queued behind it (tasksInFlight 2)
      // never started: it goes back to wait, neither retried nor counted against maxAttempts.
      if (at > 0) {
        stage.pending.add(attempt.task, stage.tasks[attempt.task]?.prefer, true);
        continue;
      }
      const failures = (stage.failures[attempt.task] ?? 0) + 1;
      stage.failures[attempt.task] = failures;
      if (failures >= this.#maxAttempts) {
        stage.fail(new SluiceError('WORKER_FAILED', `${what} on ${failures} attempts, as many as maxAttempts (${this.#maxAttempts}) allows.`, { cause: reason }));
      } else {
        stage.pending.add(attempt.task, stage.tasks[attempt.task]?.prefer, true);
        stage.retried++;
      }
    }
    if (this.#closed === undefined) this.#replace(slot);
    this.#dispatch();
  }

  #replace(slot: Slot): void {
    this.#spawn(slot).then(
      () => { this.#logger.info({ worker: slot.index }, `worker pool: worker ${slot.index} was replaced`); },
      (error: unknown) => {
        if (this.#closed !== undefined) return;
        this.#logger.warn({ worker: slot.index, err: error }, `worker pool: the replacement of worker ${slot.index} failed to start; the pool goes on with fewer workers`);
        if (this.#slots.every((s) => s.state === 'dead')) {
          this.#broken = new SluiceError('WORKER_FAILED', 'Every worker of the pool died and none could be replaced (see the log for why each failed).', { cause: error });
          for (const stage of this.#stages) stage.fail(this.#broken);
          this.#stages = [];
        }
      },
    );
  }

  /** Gives free workers the next tasks, stage by stage in order, then speculates. */
  #dispatch(): void {
    if (this.#closed !== undefined) return;
    if (this.#stages.some((stage) => stage.settled)) this.#stages = this.#stages.filter((stage) => !stage.settled);
    const fast = this.#slots.reduce((n, slot) => (slot.state === 'ready' && !this.#slow(slot) ? n + 1 : n), 0);
    for (let level = 1; level <= this.#depth; level++) {
      for (const stage of this.#stages) {
        for (let pass = OWN; pass <= STEAL && stage.pending.size > 0; pass++) {
          for (const slot of this.#slots) {
            if (slot.state !== 'ready' || slot.queue.length >= level) continue;
            // A slow worker takes a task only while the others have more left than it would take to run one.
            if (fast > 0 && this.#slow(slot) && stage.pending.size < slot.pace * fast) continue;
            const task = this.#take(stage, slot.index, pass);
            if (task >= 0) this.#launch(slot, stage, task, false);
            if (stage.settled || stage.pending.size === 0) break;
          }
        }
      }
    }
    this.#speculate();
  }

  /** Takes from `stage`'s pending tasks one for `worker` by `pass`; -1 when there is none. */
  #take(stage: StageRun, worker: number, pass: number): number {
    if (pass === OWN) return stage.pending.takeOwn(worker);
    if (pass === STEAL) return stage.pending.steal();
    return stage.pending.takeUnclaimed((w) => this.#slots[w] !== undefined && this.#slots[w].state !== 'dead');
  }

  #launch(slot: Slot, stage: StageRun, task: number, speculative: boolean): void {
    const now = performance.now();
    const attempt: Attempt = { id: ++this.#nextId, stage, task, worker: slot.index, speculative, sentAt: now, startedAt: now };
    const { payload: own, transfer, prefer, elsewhere } = stage.tasks[task] as PoolTask;
    try {
      const away = elsewhere !== undefined && prefer !== undefined && slot.index !== prefer;
      // A task sent whole to another worker than its preferred one goes by clone (its packed bytes are the lean payload's).
      const payload = away ? elsewhere() : own;
      const bytes = !away && this.#pack && transfer === undefined ? stage.packedPayload(task, packValue) : undefined;
      const launch = (stage.launches[task] = (stage.launches[task] ?? 0) + 1);
      const message: ToWorker = { t: 'task', id: attempt.id, stage: stage.name, index: task, attempt: launch, payload: bytes ?? payload, packed: bytes !== undefined };
      (slot.worker as Worker).postMessage(message, transfer as Transferable[] | undefined);
    } catch (error) {
      stage.fail(error);
      return;
    }
    slot.queue.push(attempt);
    this.#attempts.set(attempt.id, attempt);
    const live = stage.running.get(task);
    if (live === undefined) stage.running.set(task, [attempt]);
    else live.push(attempt);
  }

  /**
   * Starts a copy of each straggler on an idle worker: a task of a stage with every task started
   * and `quantile` of them done, running for longer than `multiplier` × their median duration.
   * Arms a timer for the next task that will cross that line while a worker is idle.
   */
  #speculate(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const options = this.#speculation;
    if (options === undefined) return;
    // A slow worker never runs a copy: it would not finish first.
    const idle = this.#slots.filter((slot) => slot.state === 'ready' && slot.queue.length === 0 && !this.#slow(slot));
    if (idle.length === 0) return;
    const now = performance.now();
    let next = Infinity;
    for (const stage of this.#stages) {
      if (stage.settled || stage.pending.size > 0 || stage.doneCount === 0) continue;
      const late = stage.doneCount >= options.quantile * stage.tasks.length;
      const median = stage.median();
      const threshold = Math.max(options.multiplier * median, options.minMillis);
      for (const [task, live] of stage.running) {
        const attempt = live[0];
        if (live.length !== 1 || attempt === undefined || stage.speculatedTasks.has(task) || stage.tasks[task]?.transfer !== undefined) continue;
        const onSlow = this.#slow(this.#slots[attempt.worker] as Slot);
        if (!late && !onSlow) continue;
        const due = attempt.startedAt + (onSlow ? Math.min(median, threshold) : threshold);
        if (now < due) {
          next = Math.min(next, due);
          continue;
        }
        const at = idle.findIndex((slot) => slot.index !== attempt.worker);
        if (at < 0) continue;
        const [target] = idle.splice(at, 1) as [Slot];
        stage.speculatedTasks.add(task);
        stage.speculated++;
        this.#launch(target, stage, task, true);
        if (idle.length === 0) return;
      }
    }
    if (next !== Infinity) {
      this.#timer = setTimeout(() => { this.#speculate(); }, Math.max(1, next - now));
      this.#timer.unref();
    }
  }
}

function speculationOptions(options: SpeculationOptions): Required<SpeculationOptions> {
  const { quantile = 0.75, multiplier = 1.5, minMillis = 50, slowWorker = 2 } = options;
  if (!(quantile > 0 && quantile <= 1)) throw new RangeError(`WorkerPool: speculation.quantile must be in (0, 1], got ${String(quantile)}.`);
  if (!(multiplier >= 1)) throw new RangeError(`WorkerPool: speculation.multiplier must be ≥ 1, got ${String(multiplier)}.`);
  if (!(minMillis >= 0)) throw new RangeError(`WorkerPool: speculation.minMillis must be ≥ 0, got ${String(minMillis)}.`);
  if (!(slowWorker >= 1)) throw new RangeError(`WorkerPool: speculation.slowWorker must be ≥ 1 (Infinity for never), got ${String(slowWorker)}.`);
  return { quantile, multiplier, minMillis, slowWorker };
}

/** Options that take the main thread's code as their next argument. */
const EVAL_FLAGS = new Set(['-e', '--eval', '-p', '--print']);

/** The process's Node options that a worker thread accepts (found once). */
let inherited: string[] | undefined;

/**
 * The process's `execArgv` without the options Node refuses in a worker thread: Node names them
 * in the error it throws before the thread starts, so one refused attempt finds them all.
 */
function inheritedExecArgv(): string[] {
  if (inherited !== undefined) return inherited;
  // Not what the main thread ran (`-e code`, `--input-type`): the worker runs its own script.
  const argv: string[] = [];
  const own = process.execArgv;
  for (let i = 0; i < own.length; i++) {
    const flag = own[i] as string;
    if (EVAL_FLAGS.has(flag)) i++;
    else if (!flag.startsWith('--input-type') && !/^--(eval|print)=/.test(flag)) argv.push(flag);
  }
  try {
    void new Worker('', { eval: true, execArgv: argv }).terminate();
    inherited = argv;
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'ERR_WORKER_INVALID_EXEC_ARGV') throw error;
    const refused = new Set(messageOf(error).split(': ').slice(1).join(': ').split(', '));
    inherited = argv.filter((flag) => !refused.has(flag));
  }
  return inherited;
}
