import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { keyGroupPartitionOf, keyGroupRange } from '../../core/internal.js';
import { encodeKey } from '../../state/key-codec.js';
import { KeyGroupPlacement } from '../../state/key-group-placement.js';
import { storeTaskWire, type StoreRows, type StoreTaskInput } from '../../state/task-store.js';
import type { TaskWire } from '../../core/extend.js';

/*
 * The cache laws of keyed state that stays local, on the wire of a state step driven by hand: one
 * driver (its store, with a rollback, and its placement) and a few workers (each its own wire and
 * cache), through any sequence of tasks run where the placement prefers, stolen, speculated on
 * two workers, lost with their worker (which a fresh one replaces), batches that commit or fail
 * after some tasks were taken, rows the driver changes itself, and workers killed between
 * batches. The law: every result the driver takes was computed on the driver's current rows, as
 * inline (a stale cached row would show as another old value). fast-check prints the seed.
 */

interface CountInput extends StoreTaskInput {
  readonly keys: readonly string[];
}

const row = (key: string): string => `S${key}`;

/** The task: each key's count goes up by one, and is removed at 3; the result is every key's old count. */
function count(input: CountInput): [string, number | null][] {
  return input.keys.map((key) => {
    const old = input.store.get(row(key)) as number | undefined;
    if (old !== undefined && old >= 3) input.store.delete(row(key));
    else input.store.put(row(key), (old ?? 0) + 1);
    return [key, old ?? null];
  });
}

const spec = {
  rows(input: CountInput, visit: (row: string, value: unknown) => void): void {
    for (const key of input.keys) visit(row(key), input.store.get(row(key)));
  },
};

/** The driver's store: staged rows over the committed ones, dropped by a failed batch. */
class DriverStore implements StoreRows {
  committed = new Map<string, unknown>();
  current = new Map<string, unknown>();
  get(key: string): unknown {
    return this.current.get(key);
  }
  has(key: string): boolean {
    return this.current.has(key);
  }
  put(key: string, value: unknown): void {
    this.current.set(key, value);
  }
  delete(key: string): void {
    this.current.delete(key);
  }
  commit(): void {
    this.committed = new Map(this.current);
  }
  abort(): void {
    this.current = new Map(this.committed);
  }
}

type Wire = TaskWire<CountInput, [string, number | null][]>;
const newWire = (): Wire => storeTaskWire(spec, new KeyGroupPlacement());

/** A worker runs a payload: as `runPayload` does, through structured clones. */
function run(worker: Wire, payload: unknown): unknown {
  const input = worker.receiveInput(structuredClone(payload));
  return structuredClone(worker.sendResult(count(input), input));
}

const how = fc.constantFrom('home', 'steal', 'speculate', 'speculateLoses', 'die', 'dieHere');
const batch = fc.record({
  keys: fc.uniqueArray(fc.integer({ min: 0, max: 30 }), { maxLength: 20 }),
  tasks: fc.array(how, { minLength: 8, maxLength: 8 }),
  outcome: fc.constantFrom('commit', 'commit', 'abort'),
  expire: fc.option(fc.integer({ min: 0, max: 30 }), { nil: undefined }),
  kill: fc.option(fc.integer({ min: 0, max: 2 }), { nil: undefined }),
});

interface Batch {
  readonly keys: readonly number[];
  readonly tasks: readonly string[];
  readonly outcome: string;
  readonly expire: number | undefined;
  readonly kill: number | undefined;
}

function simulate(workerCount: number, parts: number, batches: readonly Batch[]): { shipped: number; cached: number } {
  const placement = new KeyGroupPlacement();
  const driver: Wire = storeTaskWire(spec, placement);
  const store = new DriverStore();
  const workers = Array.from({ length: workerCount }, newWire);
  let shipped = 0;
  let cached = 0;
  for (const b of batches) {
    const keys = b.keys.map((k) => `k${k}`);
    // As the PoolExecutor does: every task sent, then run; the missed ones sent again (whole) and
    // run; then, in task order, each result taken and its worker recorded.
    const inputs = Array.from({ length: parts }, (_, p): CountInput => ({ store, groups: keyGroupRange(p, parts), keys: keys.filter((k) => keyGroupPartitionOf(k, parts) === p).map(encodeKey) }));
    // What inline would give: the driver's current rows (the tasks' keys are disjoint).
    const want = inputs.map((input) => input.keys.map((key) => [key, (store.get(row(key)) as number | undefined) ?? null]));
    const replies: unknown[] = [];
    const ranOn: number[] = [];
    let todo = inputs.map((_, p) => p);
    for (let round = 0; todo.length > 0; round++) {
      expect(round).toBeLessThan(2);
      const sent = todo.map((p) => {
        const input = inputs[p] as CountInput;
        const prefer = driver.prefer?.(input);
        const payload = driver.sendInput(input);
        // As the pool does: another worker than the preferred one gets the task whole (built once, when first taken elsewhere).
        let whole: unknown;
        const elsewhere = (): unknown => {
          if (whole === undefined) {
            driver.elsewhere?.(input);
            whole = driver.sendInput(input);
          }
          return whole;
        };
        return { p, home: prefer ?? p % workerCount, payloadFor: (worker: number): unknown => (prefer === undefined || worker === prefer ? payload : elsewhere()) };
      });
      const missed: number[] = [];
      for (const { p, home, payloadFor } of sent) {
        const mode = round === 0 ? (b.tasks[p % b.tasks.length] as string) : 'home';
        const other = (home + 1) % workerCount;
        const execute = (worker: number): unknown => run(workers[worker] as Wire, payloadFor(worker));
        let reply: unknown;
        let worker = home;
        if (mode === 'home') reply = execute(home);
        else if (mode === 'steal') {
          reply = execute(other);
          worker = other;
        } else if (mode === 'die') {
          // The home worker works on the task, then dies before it answers: a fresh one takes its index, and the pool retries elsewhere.
          execute(home);
          workers[home] = newWire();
          reply = execute(other);
          worker = other;
        } else if (mode === 'dieHere') {
          // The same, retried on the fresh worker that took the dead one's index (it holds nothing).
          execute(home);
          workers[home] = newWire();
          reply = execute(home);
        } else {
          const first = execute(home);
          const second = execute(other);
          [reply, worker] = mode === 'speculate' ? [second, other] : [first, home];
        }
        replies[p] = reply;
        ranOn[p] = worker;
        if (driver.missed?.(reply, inputs[p] as CountInput) === true) missed.push(p);
      }
      todo = missed;
    }
    inputs.forEach((input, p) => {
      expect(driver.receiveResult(replies[p], input)).toEqual(want[p]);
      driver.ranOn?.(input, ranOn[p] as number);
      const figures = driver.shipped?.(input);
      shipped += figures?.rows ?? 0;
      cached += figures?.cached ?? 0;
    });
    if (b.outcome === 'commit') store.commit();
    else {
      store.abort();
      placement.invalidateAll();
    }
    if (b.expire !== undefined) {
      // A row the driver changes itself (a TTL's expiry): its key group's caches are stale.
      const key = encodeKey(`k${b.expire}`);
      store.delete(row(key));
      store.commit();
      placement.invalidateKey(key);
    }
    if (b.kill !== undefined && b.kill < workerCount) workers[b.kill] = newWire();
  }
  return { shipped, cached };
}

describe('key group placement', () => {
  it('never lets a task compute on a stale cached row: runs, steals, speculation, worker deaths, failed batches, driver writes', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 6 }), fc.array(batch, { minLength: 1, maxLength: 8 }), (workerCount, parts, batches) => {
        simulate(workerCount, parts, batches);
      }),
      { numRuns: 300 },
    );
  });

  it('ships a key group’s rows once, then only what the worker lacks, while its tasks run where it lives', () => {
    const same: Batch = { keys: [1, 2, 3, 4, 5, 6, 7, 8], tasks: Array<string>(8).fill('home'), outcome: 'commit', expire: undefined, kill: undefined };
    // Batch 1 creates the rows (nothing to ship), batch 2 ships none of them (all cached), batch 3 too.
    expect(simulate(2, 4, [same, same, same])).toEqual({ shipped: 0, cached: 16 });
    // Stolen every time: every row travels (the thief gets the task whole).
    const stolen: Batch = { ...same, tasks: Array<string>(8).fill('steal') };
    expect(simulate(2, 4, [stolen, stolen, stolen])).toEqual({ shipped: 16, cached: 0 });
    // A straggler's copy on the other worker (sent whole) loses the race to the preferred worker's own run: its cache stays the one used.
    const raced: Batch = { ...same, tasks: Array<string>(8).fill('speculateLoses') };
    expect(simulate(2, 4, [same, raced, same])).toEqual({ shipped: 0, cached: 16 });
    // A failed batch after its tasks ran: the next batch sends everything again.
    expect(simulate(2, 4, [same, { ...same, outcome: 'abort' }, same])).toEqual({ shipped: 8, cached: 8 });
  });
});
