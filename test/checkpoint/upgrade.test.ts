import { join } from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { filter, foreachBatch, keyBy, ManualClock, map, mapToPair, StreamingContext, type DStream } from 'sluice';
import { checkCompatibility, getOrCreate, inspectCheckpoint, levelCheckpoint, type LevelCheckpointOptions, type LevelCheckpointStorage } from 'sluice/checkpoint';
import { mapWithState, stateSpec, updateStateByKey, type State } from 'sluice/state';
import { committedState } from 'sluice/testing';
import { agg, eventTimeWindow, session, tumbling, withWatermark } from 'sluice/windows';
import { useTempDir } from '../support/temp-dir.js';

/*
 * Upgrades (docs/exactly-once.md, "Upgrading a job"): a program restarted on a checkpoint written
 * by an earlier version of it keeps the state of its stateful operators when only stateless
 * operators or sinks changed, starts a new stateful operator empty, and refuses, naming the
 * operator and the field, a change to what stored state means or the loss of an operator's state
 * (unless dropState names it).
 */

const dir = useTempDir('sluice-upgrade-');
const BATCHES = 6;

interface Ev {
  readonly i: number;
  readonly key: string;
  readonly t: number;
}

/** A version of the program: what it changes of the first one. */
interface Program {
  /** A filter and a map (letting everything through) before the stateful operators. */
  readonly stateless?: boolean;
  /** A new stateful operator, 'extra'. */
  readonly addStateful?: boolean;
  /** Without the stateful operator 'totals'. */
  readonly withoutTotals?: boolean;
  /** The session gap of 'sessions' (default 50 ms). */
  readonly gap?: number;
  /** The aggregator of 'sessions' (default count). */
  readonly aggregator?: 'count' | 'sum';
  /** Tumbling windows instead of sessions for 'sessions'. */
  readonly tumbling?: boolean;
  /** A second sink. */
  readonly sink?: boolean;
}

/** The job: 3 records a batch over 3 keys; 'totals' (updateStateByKey), an unnamed mapWithState, 'sessions' (event-time). */
function build(program: Program, clock: ManualClock, logs: string[] = []) {
  return (checkpoint: LevelCheckpointStorage): StreamingContext => {
    const logger = pino({ level: 'info' }, { write: (line: string) => void logs.push((JSON.parse(line) as { msg: string }).msg) });
    const ctx = new StreamingContext({ batchInterval: 1000, clock, checkpoint, logger });
    let events: DStream<Ev> = ctx.rateStream<Ev>({ name: 'events', rowsPerSecond: 1000, startTime: 0, maxRecordsPerBatch: 3, totalRows: 3 * BATCHES, generate: (i) => ({ i, key: `k${i % 3}`, t: i * 10 }) });
    if (program.stateless === true) events = events.pipe(filter((e: Ev) => e.i >= 0), map((e: Ev) => ({ ...e })));
    const keyed = events.pipe(keyBy((e: Ev) => e.key));
    if (program.withoutTotals !== true) {
      keyed.pipe(
        mapToPair(([k]) => [k, 1] as const),
        updateStateByKey((ones: number[], n: number | undefined) => (n ?? 0) + ones.length, { name: 'totals' }),
        foreachBatch(() => undefined),
      );
    }
    keyed.pipe(
      mapWithState(stateSpec((_k: string, _e: Ev | undefined, s: State<number>) => {
        s.update((s.getOption() ?? 0) + 1);
        return undefined;
      })),
      foreachBatch(() => undefined),
    );
    const windows = program.tumbling === true ? tumbling(100) : session(program.gap ?? 50);
    const aggregator = program.aggregator === 'sum' ? agg.sum((e: Ev) => e.i) : agg.count();
    events.pipe(withWatermark((e: Ev) => e.t, 0), keyBy((e: Ev) => e.key), eventTimeWindow(windows, aggregator, { name: 'sessions' }), foreachBatch(() => undefined));
    if (program.addStateful === true) keyed.pipe(mapToPair(([k]) => [k, 1] as const), updateStateByKey((ones: number[], n: number | undefined) => (n ?? 0) + ones.length, { name: 'extra' }), foreachBatch(() => undefined));
    if (program.sink === true) events.pipe(foreachBatch(() => undefined, { name: 'second sink' }));
    return ctx;
  };
}

/** Runs `program` on the checkpoint from batch `from` to batch `to`; its committed state at the end. */
async function run(program: Program, from: number, to: number, options: LevelCheckpointOptions & { logs?: string[] } = {}): Promise<Record<string, unknown[]>> {
  const clock = new ManualClock(from * 1000);
  const ctx = await getOrCreate(join(dir(), 'ckpt'), build(program, clock, options.logs), options);
  await ctx.start();
  await clock.advanceTo(to * 1000);
  const state = await committedState(ctx);
  await ctx.stop();
  await ctx.awaitTermination();
  return state;
}

describe('upgrading a checkpointed job', () => {
  it('keeps every stateful operator’s state, named or not, when stateless operators and sinks change', async () => {
    await run({}, 0, 3);
    const upgraded = await run({ stateless: true, sink: true }, 3, BATCHES);
    const straight = await (async () => {
      const other = join(dir(), 'straight');
      const clock = new ManualClock();
      const ctx = await getOrCreate(other, build({}, clock));
      await ctx.start();
      await clock.advanceTo(BATCHES * 1000);
      const state = await committedState(ctx);
      await ctx.stop();
      return state;
    })();
    expect(Object.keys(upgraded).sort()).toEqual(['mapWithState#0', 'sessions', 'totals']);
    expect(upgraded).toEqual(straight);
  });

  it('starts a new stateful operator empty, says so in the log, and records it with the first commit', async () => {
    await run({}, 0, 3);
    const logs: string[] = [];
    const upgraded = await run({ addStateful: true }, 3, BATCHES, { logs });
    expect(logs).toContain("upgrade: the stateful operator 'extra' is new: its state starts empty");
    expect(upgraded.extra).toHaveLength(3);
    expect((await inspectCheckpoint(join(dir(), 'ckpt'))).fingerprint.stateful.map((op) => op.id)).toEqual(['totals', 'mapWithState#0', 'sessions', 'extra']);
  });

  it('refuses to lose an operator’s state unless dropState names it; then drops its rows with the first commit', async () => {
    await run({}, 0, 3);
    await expect(run({ withoutTotals: true }, 3, BATCHES)).rejects.toMatchObject({
      code: 'CHECKPOINT_INCOMPATIBLE',
      message: expect.stringMatching(/the state of the stateful operator 'totals' \(updateStateByKey\), which the program no longer has\. To drop that state, restart with the option dropState: \['totals'\]/) as unknown,
    });
    expect((await inspectCheckpoint(join(dir(), 'ckpt'))).operators.map((op) => op.id)).toContain('totals');
    await run({ withoutTotals: true }, 3, BATCHES, { dropState: ['totals'] });
    const after = await inspectCheckpoint(join(dir(), 'ckpt'));
    expect(after.operators.map((op) => op.id)).not.toContain('totals');
    expect(after.fingerprint.stateful.map((op) => op.id)).toEqual(['mapWithState#0', 'sessions']);
    // The option may stay: the next restart has nothing more to drop.
    await run({ withoutTotals: true }, BATCHES, BATCHES + 1, { dropState: ['totals'] });
  });

  it.each<[string, Program, RegExp]>([
    ['a session gap', { gap: 5 }, /'sessions' \(eventTimeWindow\) had gap 50 and now has 5: its stored state would mean something else\. Keep gap 50/],
    ['the aggregator', { aggregator: 'sum' }, /'sessions' \(eventTimeWindow\) had aggregator "count" and now has "sum"/],
    ['the kind of windows', { tumbling: true }, /'sessions' \(eventTimeWindow\) had windows "session" and now has "tumbling"/],
  ])('refuses a change of what stored state means (%s), naming the operator and the field, and changes nothing of the checkpoint', async (_what, program, message) => {
    await run({}, 0, 3);
    const before = await inspectCheckpoint(join(dir(), 'ckpt'));
    await expect(run(program, 3, BATCHES)).rejects.toMatchObject({ code: 'CHECKPOINT_INCOMPATIBLE', message: expect.stringMatching(message) as unknown });
    const after = await inspectCheckpoint(join(dir(), 'ckpt'));
    expect({ lastCommitted: after.lastCommitted, pending: after.pending, fingerprint: after.fingerprint }).toEqual({ lastCommitted: before.lastCommitted, pending: before.pending, fingerprint: before.fingerprint });
  });

  it('keeps an unnamed stateful operator’s id when stateless operators come and go around it', () => {
    const clock = new ManualClock();
    const ids = (program: Program): string[] => {
      const ctx = build(program, clock)(levelCheckpoint(join(dir(), 'unused')));
      return ctx.graph.nodes.flatMap((node) => (node.stateDescriptor() === undefined ? [] : [node.describe]));
    };
    expect(ids({})).toEqual(['totals', 'mapWithState#0', 'sessions']);
    expect(ids({ stateless: true, sink: true })).toEqual(['totals', 'mapWithState#0', 'sessions']);
  });
});

describe('checkCompatibility', () => {
  it('says what a program would keep, start empty, drop or refuse, without starting it or writing to the checkpoint', async () => {
    await run({}, 0, 3);
    const checkpoint = join(dir(), 'ckpt');
    const before = await inspectCheckpoint(checkpoint);
    const clock = new ManualClock();
    expect(await checkCompatibility(checkpoint, build({ stateless: true, addStateful: true, withoutTotals: true }, clock), { dropState: ['totals'] })).toEqual({
      compatible: true,
      refused: undefined,
      kept: ['mapWithState#0', 'sessions'],
      added: ['extra'],
      dropped: ['totals'],
      migrated: [],
    });
    const refused = await checkCompatibility(checkpoint, build({ gap: 5 }, clock));
    expect(refused).toMatchObject({ compatible: false, refused: expect.stringMatching(/'sessions' \(eventTimeWindow\) had gap 50/) as unknown });
    expect(await inspectCheckpoint(checkpoint)).toEqual(before);
  });
});
