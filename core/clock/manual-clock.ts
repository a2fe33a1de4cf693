import type { Cancel, Clock } from './clock.js';

interface Entry {
  readonly at: number;
  readonly seq: number;
  readonly task: () => Promise<void> | void;
}

/**
 * A clock that moves only when told to. `advance(ms)` runs, in time order, every task that
 * becomes due (including tasks those tasks schedule within the new time) and resolves when they
 * have all finished: after `await clock.advance(1000)` every batch due by then has completed.
 */
export class ManualClock implements Clock {
  #now: number;
  #seq = 0;
  #entries: Entry[] = [];
  #advancing: Promise<void> = Promise.resolve();

  /** @param start - the initial time in ms (default 0). */
  constructor(start = 0) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  schedule(at: number, task: () => Promise<void> | void): Cancel {
    const entry: Entry = { at, seq: this.#seq++, task };
    this.#entries.push(entry);
    return () => {
      this.#entries = this.#entries.filter((e) => e !== entry);
    };
  }

  /**
   * Moves time forward by `ms` and resolves once every task due by the new time has finished.
   * Calls made while an advance is under way queue behind it.
   */
  advance(ms: number): Promise<void> {
    if (!Number.isFinite(ms) || ms < 0) {
      throw new RangeError(`ManualClock.advance: ${ms} is not a non-negative number of milliseconds.`);
    }
    return this.#enqueue(() => this.#now + ms);
  }

  /** Moves time to `at` (never backwards); see {@link ManualClock.advance}. */
  advanceTo(at: number): Promise<void> {
    return this.#enqueue(() => Math.max(this.#now, at));
  }

  /** Resolves once every task already due has run. */
  settle(): Promise<void> {
    return this.#enqueue(() => this.#now);
  }

  #enqueue(target: () => number): Promise<void> {
    const run = this.#advancing.then(() => this.#runUntil(target()));
    this.#advancing = run.catch(() => undefined);
    return run;
  }

  async #runUntil(target: number): Promise<void> {
    for (;;) {
      const next = this.#nextDue(target);
      if (next === undefined) break;
      this.#entries = this.#entries.filter((e) => e !== next);
      this.#now = Math.max(this.#now, next.at);
      await next.task();
    }
    this.#now = Math.max(this.#now, target);
  }

  #nextDue(target: number): Entry | undefined {
    let best: Entry | undefined;
    for (const e of this.#entries) {
      if (e.at <= target && (best === undefined || e.at < best.at || (e.at === best.at && e.seq < best.seq))) best = e;
    }
    return best;
  }
}
