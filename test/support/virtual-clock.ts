import type { Cancel, Clock } from 'sluice';

interface Task {
  readonly at: number;
  readonly seq: number;
  readonly run: () => Promise<void> | void;
}

/**
 * A clock for simulating work that takes time on one thread: like a `ManualClock`, tasks run when
 * `runUntil` reaches them, in time order; unlike it, a task may `spend(ms)`, which moves time on
 * without running anything, so a batch that spends longer than the interval delays the next one,
 * which then starts late (as on a real machine with a slow job).
 */
export class VirtualClock implements Clock {
  #now = 0;
  #seq = 0;
  #tasks: Task[] = [];

  now(): number {
    return this.#now;
  }

  schedule(at: number, run: () => Promise<void> | void): Cancel {
    const task: Task = { at, seq: this.#seq++, run };
    this.#tasks.push(task);
    return () => {
      this.#tasks = this.#tasks.filter((t) => t !== task);
    };
  }

  /** Moves time on by `ms` of work, from inside a task. */
  spend(ms: number): void {
    this.#now += ms;
  }

  /** Runs every task due by `time`, in order, each at its time or, when work ran past it, late. */
  async runUntil(time: number): Promise<void> {
    for (;;) {
      let next: Task | undefined;
      for (const t of this.#tasks) if (t.at <= time && (next === undefined || t.at < next.at || (t.at === next.at && t.seq < next.seq))) next = t;
      if (next === undefined) break;
      this.#tasks = this.#tasks.filter((t) => t !== next);
      this.#now = Math.max(this.#now, next.at);
      await next.run();
    }
    this.#now = Math.max(this.#now, time);
  }
}
