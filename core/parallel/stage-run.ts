import type { Transferable } from 'node:worker_threads';

/** One task of a stage; see `WorkerPool.runStage`. */
export interface PoolTask {
  /** What the worker's handler receives (by structured clone). */
  readonly payload: unknown;
  /**
   * `ArrayBuffer`s inside `payload` to move to the worker instead of copying them. A moved buffer
   * is empty in the driver afterwards, so such a task is never retried or speculated: if its
   * worker dies, the stage fails with `WORKER_FAILED`. Copying a buffer costs little next to
   * encoding it (see bench/README.md, S8 building blocks); leave this out unless the buffer is large.
   */
  readonly transfer?: readonly Transferable[];
  /**
   * The worker index this task should run on (locality: the worker that holds its key groups'
   * state). A free worker takes tasks that prefer it first, then tasks that prefer no live worker,
   * and steals tasks that prefer another worker only when none of those is left.
   */
  readonly prefer?: number;
  /**
   * The size of the task's input (its records, say), when known: among the tasks that prefer the
   * same worker (or none), larger tasks are handed out first (longest processing time first), so
   * that a large partition does not start last and hold the stage's end back. Tasks without a size
   * keep their order, after those with one.
   */
  readonly size?: number | undefined;
  /**
   * The payload to send instead of `payload` when the task runs on another worker than `prefer`
   * (a steal, a speculative copy, a retry elsewhere): for a task whose `payload` leaves out what
   * the preferred worker caches (keyed state), sent whole.
   */
  readonly elsewhere?: () => unknown;
}

/** What a stage did, for progress events. */
export interface StageFigures {
  /** The stage's tasks. */
  readonly tasks: number;
  /** Runs started again because the worker of an earlier run died. */
  readonly retried: number;
  /** Speculative copies started for stragglers. */
  readonly speculated: number;
  /** Wall time from `runStage` to its last result, in ms. */
  readonly millis: number;
  /** The index of the worker that produced each task's result (the winning copy's). */
  readonly workerOf: readonly number[];
}

/** One run of one task on one worker. */
export interface Attempt {
  readonly id: number;
  readonly stage: StageRun;
  readonly task: number;
  readonly worker: number;
  readonly speculative: boolean;
  /** When the driver sent it. */
  readonly sentAt: number;
  /** When the worker began it: the moment it reached the head of the worker's queue. */
  startedAt: number;
}

/** The bookkeeping of one `runStage` call while it runs. */
export class StageRun {
  readonly name: string;
  readonly tasks: readonly PoolTask[];
  readonly startedAt: number;
  readonly results: unknown[];
  readonly done: boolean[];
  readonly workerOf: number[];
  /** Tasks waiting for a worker. */
  readonly pending: PendingTasks;
  /** The live attempts of each running task. */
  readonly running = new Map<number, Attempt[]>();
  /** How many times each task's worker died under it. */
  readonly failures: number[];
  /** How many runs of each task were started. */
  readonly launches: number[];
  /** Tasks that got their one speculative copy. */
  readonly speculatedTasks = new Set<number>();
  /** Each task's payload as msgpack bytes (`null`: sent by structured clone), once packed. */
  readonly #packed: (Uint8Array | null | undefined)[] = [];
  /** Durations of the done tasks, in the order they finished. */
  readonly durations: number[] = [];
  #median = 0;
  /** How many durations {@link median} last sorted. */
  #medianOf = 0;
  doneCount = 0;
  retried = 0;
  speculated = 0;
  settled = false;
  readonly #resolve: (value: { results: unknown[]; figures: StageFigures }) => void;
  readonly #reject: (error: unknown) => void;

  constructor(
    name: string,
    tasks: readonly PoolTask[],
    now: number,
    resolve: (value: { results: unknown[]; figures: StageFigures }) => void,
    reject: (error: unknown) => void,
  ) {
    this.name = name;
    this.tasks = tasks;
    this.startedAt = now;
    const n = tasks.length;
    this.results = new Array<unknown>(n);
    this.done = new Array<boolean>(n).fill(false);
    this.workerOf = new Array<number>(n).fill(-1);
    this.pending = new PendingTasks(tasks);
    this.failures = new Array<number>(n).fill(0);
    this.launches = new Array<number>(n).fill(0);
    this.#resolve = resolve;
    this.#reject = reject;
  }

  /**
   * The msgpack bytes of `task`'s payload, packed by `pack` at the first call and kept for its
   * retries and speculative copies (a posted copy leaves them here); `undefined` when `pack` gave
   * none (the payload goes by structured clone).
   */
  packedPayload(task: number, pack: (value: unknown) => Uint8Array | undefined): Uint8Array | undefined {
    let bytes = this.#packed[task];
    if (bytes === undefined) bytes = this.#packed[task] = pack(this.tasks[task]?.payload) ?? null;
    return bytes ?? undefined;
  }

  /** Records a task's result; resolves the stage with the last one. */
  complete(attempt: Attempt, value: unknown, now: number): void {
    const task = attempt.task;
    this.results[task] = value;
    this.done[task] = true;
    this.workerOf[task] = attempt.worker;
    this.running.delete(task);
    this.doneCount++;
    this.durations.push(now - attempt.startedAt);
    if (this.doneCount === this.tasks.length) {
      this.settled = true;
      const figures = { tasks: this.tasks.length, retried: this.retried, speculated: this.speculated, millis: now - this.startedAt, workerOf: this.workerOf };
      this.#resolve({ results: this.results, figures });
    }
  }

  /** Fails the stage; the results of its other tasks are ignored from now on. */
  fail(error: unknown): void {
    if (this.settled) return;
    this.settled = true;
    this.pending.clear();
    this.running.clear();
    this.#reject(error);
  }

  /**
   * The median duration of the done tasks, in ms. Sorted again only once 5% more tasks are done
   * than when last sorted, so a stage of many tasks does not sort once per task.
   */
  median(): number {
    const n = this.durations.length;
    if (n > 0 && (this.#medianOf === 0 || n >= this.#medianOf * 1.05)) {
      const d = [...this.durations].sort((a, b) => a - b);
      const mid = n >> 1;
      this.#median = n % 2 === 1 ? (d[mid] as number) : ((d[mid - 1] as number) + (d[mid] as number)) / 2;
      this.#medianOf = n;
    }
    return this.#median;
  }

  /** Forgets `attempt` as a live run of its task. */
  drop(attempt: Attempt): void {
    const live = this.running.get(attempt.task);
    if (live === undefined) return;
    const at = live.indexOf(attempt);
    if (at >= 0) live.splice(at, 1);
    if (live.length === 0) this.running.delete(attempt.task);
  }
}

/**
 * A stage's tasks waiting for a worker: a queue for each preferred worker and one for tasks that
 * prefer none, each first in, first out (a retried task goes to the front). Every take is O(1) but
 * a steal, which looks at each worker's queue.
 */
export class PendingTasks {
  readonly #byWorker = new Map<number, TaskQueue>();
  readonly #free = new TaskQueue();
  #size = 0;

  constructor(tasks: readonly PoolTask[]) {
    for (const task of largestFirst(tasks)) this.add(task, tasks[task]?.prefer, false);
  }

  /** The number of waiting tasks. */
  get size(): number {
    return this.#size;
  }

  /** Queues `task`, at the front when `first` (a retry). */
  add(task: number, prefer: number | undefined, first: boolean): void {
    let queue = this.#free;
    if (prefer !== undefined) {
      queue = this.#byWorker.get(prefer) ?? new TaskQueue();
      this.#byWorker.set(prefer, queue);
    }
    if (first) queue.unshift(task);
    else queue.push(task);
    this.#size++;
  }

  /** The next task that prefers `worker`, or -1. */
  takeOwn(worker: number): number {
    return this.#take(this.#byWorker.get(worker));
  }

  /** The next task that prefers no worker, or one `isLive` says is gone; -1 when none. */
  takeUnclaimed(isLive: (worker: number) => boolean): number {
    if (this.#free.length > 0) return this.#take(this.#free);
    for (const [worker, queue] of this.#byWorker) if (queue.length > 0 && !isLive(worker)) return this.#take(queue);
    return -1;
  }

  /** The next task of the longest queue, or -1. */
  steal(): number {
    let longest: TaskQueue | undefined;
    for (const queue of this.#byWorker.values()) if (queue.length > (longest?.length ?? 0)) longest = queue;
    return this.#take(longest ?? this.#free);
  }

  clear(): void {
    this.#byWorker.clear();
    this.#free.clear();
    this.#size = 0;
  }

  #take(queue: TaskQueue | undefined): number {
    if (queue === undefined || queue.length === 0) return -1;
    this.#size--;
    return queue.shift();
  }
}

/** The indices of `tasks`, larger `size` first; ties and tasks without a size keep their order (a stable sort). */
function largestFirst(tasks: readonly PoolTask[]): number[] {
  const order = tasks.map((_, i) => i);
  if (!tasks.some((task) => task.size !== undefined)) return order;
  const sizeOf = (i: number): number => tasks[i]?.size ?? -1;
  return order.sort((a, b) => sizeOf(b) - sizeOf(a));
}

/** A queue of task indices; `shift` moves a head index instead of the items. */
class TaskQueue {
  #items: number[] = [];
  #head = 0;

  get length(): number {
    return this.#items.length - this.#head;
  }

  push(task: number): void {
    this.#items.push(task);
  }

  unshift(task: number): void {
    if (this.#head > 0) this.#items[--this.#head] = task;
    else this.#items.unshift(task);
  }

  shift(): number {
    const task = this.#items[this.#head++] as number;
    if (this.#head === this.#items.length) this.clear();
    return task;
  }

  clear(): void {
    this.#items = [];
    this.#head = 0;
  }
}
