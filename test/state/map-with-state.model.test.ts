import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ManualClock, StreamingContext, foreachBatch, type Pair } from 'sluice';
import { mapWithState, stateSpec, type State } from 'sluice/state';

const INTERVAL = 1000;
const TIMEOUT = 2500;

type Op = 'inc' | 'remove' | 'peek' | 'removeTwice';
type Emitted = readonly [string, string, number | null];

/**
 * The function under test: counts, removes, or only looks at (and so touches) a key's state, or
 * breaks a rule of `State` (remove twice in one call), which `'skip'` sets aside.
 */
const spec = stateSpec((key: string, op: Op | undefined, state: State<number>): Emitted => {
  if (state.isTimingOut()) return [key, 'timeout', state.get()];
  if (op === 'inc') {
    const next = (state.getOption() ?? 0) + 1;
    state.update(next);
    return [key, 'inc', next];
  }
  if (op === 'remove') {
    state.remove();
    return [key, 'remove', null];
  }
  if (op === 'removeTwice') {
    state.remove();
    state.remove();
  }
  return [key, 'peek', state.getOption() ?? null];
})
  .timeout(TIMEOUT)
  .onError('skip');

/** The reference model: a map of key to count and the batch time of its last record. */
class Model {
  readonly state = new Map<string, { count: number; touchedAt: number }>();
  batchTime = 0;

  /** Runs one batch of the model; returns what it emits. */
  batch(records: readonly Pair<string, Op>[]): Emitted[] {
    this.batchTime += INTERVAL;
    const t = this.batchTime;
    const out: Emitted[] = [];
    for (const [key, op] of records) {
      const entry = this.state.get(key);
      if (op === 'inc') {
        const count = (entry?.count ?? 0) + 1;
        this.state.set(key, { count, touchedAt: t });
        out.push([key, 'inc', count]);
      } else if (op === 'remove') {
        this.state.delete(key);
        out.push([key, 'remove', null]);
      } else if (op === 'removeTwice') {
        // Skipped: the state is as it was, and the record still counts as the key's activity.
        if (entry !== undefined) entry.touchedAt = t;
      } else {
        if (entry !== undefined) entry.touchedAt = t;
        out.push([key, 'peek', entry?.count ?? null]);
      }
    }
    for (const [key, entry] of [...this.state]) {
      if (entry.touchedAt < t - TIMEOUT) {
        this.state.delete(key);
        out.push([key, 'timeout', entry.count]);
      }
    }
    return out;
  }
}

/** The real system: a context on a manual clock, fed one batch at a time. */
interface Real {
  readonly clock: ManualClock;
  readonly queue: Pair<string, Op>[][];
  readonly outputs: Emitted[][];
  readonly snapshots: Pair<string, number>[][];
}

const sorted = <T>(items: readonly T[]): T[] => [...items].sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));

class BatchCommand implements fc.AsyncCommand<Model, Real> {
  constructor(readonly records: readonly Pair<string, Op>[]) {}
  check(): boolean {
    return true;
  }
  async run(model: Model, real: Real): Promise<void> {
    const expected = model.batch(this.records);
    real.queue.push([...this.records]);
    await real.clock.advance(INTERVAL);
    expect(sorted(real.outputs.at(-1) ?? [])).toEqual(sorted(expected));
    expect(new Map(real.snapshots.at(-1))).toEqual(new Map([...model.state].map(([k, e]) => [k, e.count])));
  }
  toString(): string {
    return `batch(${JSON.stringify(this.records)})`;
  }
}

const record = fc.tuple(fc.constantFrom('a', 'b', 'c'), fc.constantFrom<Op>('inc', 'inc', 'remove', 'peek', 'removeTwice'));
const commands = [
  fc.array(record, { maxLength: 5 }).map((records) => new BatchCommand(records)),
  fc.constant(new BatchCommand([])),
];

describe('mapWithState (model)', () => {
  it('matches a reference model over random batches of updates, removals, touches, set-aside calls and idle time', async () => {
    await fc.assert(
      fc.asyncProperty(fc.commands(commands, { maxCommands: 25 }), fc.integer({ min: 1, max: 3 }), async (cmds, numPartitions) => {
        const clock = new ManualClock();
        const ctx = new StreamingContext({ batchInterval: INTERVAL, clock, defaultParallelism: numPartitions });
        const queue: Pair<string, Op>[][] = [];
        const outputs: Emitted[][] = [];
        const snapshots: Pair<string, number>[][] = [];
        const mapped = ctx.queueStream(queue).pipe(mapWithState(spec));
        mapped.pipe(foreachBatch((r) => void outputs.push([...r])));
        mapped.stateSnapshots().pipe(foreachBatch((r) => void snapshots.push([...r])));
        await ctx.start();
        try {
          await fc.asyncModelRun(() => ({ model: new Model(), real: { clock, queue, outputs, snapshots } }), cmds);
        } finally {
          await ctx.stop();
        }
      }),
    );
  });
});
