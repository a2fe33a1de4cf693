import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { foreachBatch, keyBy, ManualClock, mapToPair, StreamingContext, type Operator, type Pair, type SluiceError } from 'sluice';
import { getOrCreate, type LevelCheckpointStorage } from 'sluice/checkpoint';
import { mapWithState, queryableState, stateSpec, updateStateByKey, type State } from 'sluice/state';
import { decodeKey } from 'sluice/extend';
import { committedState } from 'sluice/testing';
import { eventTimeWindow, tumbling, withWatermark, type Aggregator, type WindowResult } from 'sluice/windows';
import { useTempDir } from '../support/temp-dir.js';

/*
 * State schema evolution: an operator declares the version of its values and how older ones
 * migrate; a program restarted on a checkpoint its older version wrote reads every old value
 * migrated and writes it back; a value that cannot be migrated fails with STATE_MIGRATION_FAILED
 * naming the operator and the key.
 */

const dir = useTempDir('sluice-state-version-');

/** Runs a job over batches of words on the checkpoint, from batch `from` to `to`; what it output and its committed state. */
async function run<U>(stage: Operator<Pair<string, number>, U>, batches: readonly string[][], from: number, to: number) {
  const clock = new ManualClock(from * 1000);
  const outputs: U[][] = [];
  const ctx = await getOrCreate(join(dir(), 'ckpt'), (checkpoint: LevelCheckpointStorage) => {
    const c = new StreamingContext({ batchInterval: 1000, clock, checkpoint });
    c.rateStream({ name: 'words', rowsPerSecond: 1000, startTime: 0, maxRecordsPerBatch: 2, totalRows: batches.flat().length, generate: (i) => batches.flat()[i] as string })
      .pipe(mapToPair((w: string) => [w, 1]), stage, foreachBatch((records) => void outputs.push([...records])));
    return c;
  });
  await ctx.start();
  await clock.advanceTo(to * 1000);
  const failure = ctx.failure;
  if (failure !== undefined) {
    await ctx.awaitTermination().catch(() => undefined);
    throw failure;
  }
  const state = await committedState(ctx);
  await ctx.stop();
  return { outputs, state, ctx };
}

const WORDS = [['a', 'b'], ['a', 'c'], ['a', 'b'], ['d', 'a']];

describe('mapWithState with a state version', () => {
  const v1 = mapWithState(stateSpec((_w: string, _one: number | undefined, s: State<number>) => {
    s.update((s.getOption() ?? 0) + 1);
    return undefined;
  }).name('counts'));
  const v2 = (migrate: (old: unknown, from: number) => unknown) =>
    mapWithState(stateSpec((w: string, _one: number | undefined, s: State<{ n: number }>) => {
      const n = (s.getOption()?.n ?? 0) + 1;
      s.update({ n });
      return [w, n] as const;
    }).name('counts').version(2, migrate));

  it('reads every value an older version wrote migrated, and writes it back at the next commit', async () => {
    await run(v1, WORDS, 0, 2);
    const migrations: [unknown, number][] = [];
    const { outputs, state } = await run(v2((old, from) => {
      migrations.push([old, from]);
      return { n: old as number };
    }), WORDS, 2, 4);
    // a, b and d counted on from their v1 counts; c, not touched after the restart, stays as it was stored.
    expect(outputs.flat().sort()).toEqual([['a', 3], ['a', 4], ['b', 2], ['d', 1]].sort());
    expect(migrations.sort()).toEqual([[1, 1], [2, 1]]);
    const entries = new Map((state.counts ?? []).map((row) => row as [string, readonly unknown[]]).filter(([row]) => row.startsWith('S')).map(([row, entry]) => [decodeKey(row.slice(1)), [entry[0], entry[4]]]));
    expect(entries.get('a')).toEqual([{ n: 4 }, 2]);
    expect(entries.get('c')).toEqual([1, undefined]);
  });

  it('serves values through queryable state at the current version, before any batch touched them', async () => {
    await run(v1, WORDS, 0, 2);
    const clock = new ManualClock(2000);
    const again = await getOrCreate(join(dir(), 'ckpt'), (checkpoint) => {
      const c = new StreamingContext({ batchInterval: 1000, clock, checkpoint });
      c.rateStream({ name: 'words', rowsPerSecond: 1000, startTime: 0, maxRecordsPerBatch: 2, totalRows: 8, generate: (i) => WORDS.flat()[i] as string })
        .pipe(mapToPair((w: string) => [w, 1]), v2((old) => ({ n: old as number })), foreachBatch(() => undefined));
      return c;
    });
    await again.start();
    // eslint-disable-next-line @typescript-eslint/no-deprecated -- the context comes from getOrCreate's builder, the operator's stream is not at hand
    expect(await queryableState<string, { n: number }>(again, 'counts').get('c')).toEqual({ n: 1 });
    await again.stop();
  });

  it('fails with STATE_MIGRATION_FAILED naming the operator and the key when migrate throws', async () => {
    await run(v1, WORDS, 0, 2);
    const boom = new Error('no idea what this was');
    const error = await run(v2(() => {
      throw boom;
    }), WORDS, 2, 4).then(() => undefined, (e: unknown) => e as SluiceError);
    expect(error).toMatchObject({ code: 'STATE_MIGRATION_FAILED', operator: 'counts', message: expect.stringMatching(/counts cannot migrate the state of key "a" from version 1 to 2: no idea what this was/) as unknown });
    // The batch's error carries the migration's, which carries what migrate threw.
    expect((error?.cause as Error).cause).toBe(boom);
  });

  it('refuses a program with a lower version than the checkpoint’s, and a version above 1 without migrate', async () => {
    await run(v2((old) => ({ n: old as number })), WORDS, 0, 2);
    await expect(run(v1, WORDS, 2, 4)).rejects.toMatchObject({ code: 'CHECKPOINT_INCOMPATIBLE', message: expect.stringMatching(/'counts' \(mapWithState\) stored its values at state version 2, and this program reads version 1/) as unknown });
    expect(() => stateSpec(() => undefined).version(2, undefined as never)).toThrow(/state version 2 needs a migrate function/);
    expect(() => stateSpec(() => undefined).version(0, () => 0)).toThrow(RangeError);
  });
});

describe('updateStateByKey with a state version', () => {
  const count = (ones: number[], n: number | undefined): number => (n ?? 0) + ones.length;
  const countV2 = (ones: number[], s: { n: number } | undefined): { n: number } => ({ n: (s?.n ?? 0) + ones.length });

  it('migrates every value, and writes it back, in the first batch of the new version', async () => {
    await run(updateStateByKey(count, { name: 'totals' }), WORDS, 0, 2);
    const { outputs, state } = await run(updateStateByKey(countV2, { name: 'totals', version: 2, migrate: (old) => ({ n: old as number }) }), WORDS, 2, 4);
    expect(outputs.at(-1)).toEqual([['a', { n: 4 }], ['b', { n: 2 }], ['c', { n: 1 }], ['d', { n: 1 }]]);
    expect(state.totals).toContainEqual(['V', 2]);
    expect((state.totals ?? []).filter((row) => (row as [string])[0] !== 'V').every((row) => typeof (row as [string, unknown])[1] === 'object')).toBe(true);
  });
});

describe('eventTimeWindow with an aggregator version', () => {
  interface Ev {
    readonly word: string;
    readonly t: number;
  }
  /** A counter; version 2 keeps `{ n }` instead of a number. */
  const counter = (version: 1 | 2): Aggregator<Ev, unknown, number> =>
    version === 1
      ? { name: 'counter', create: () => 0, add: (a) => (a as number) + 1, merge: (a, b) => (a as number) + (b as number), result: (a) => a as number }
      : {
          name: 'counter',
          version: 2,
          migrate: (old) => ({ n: old as number }),
          create: () => ({ n: 0 }),
          add: (a) => ({ n: (a as { n: number }).n + 1 }),
          merge: (a, b) => ({ n: (a as { n: number }).n + (b as { n: number }).n }),
          result: (a) => (a as { n: number }).n,
        };
  const windowed = (version: 1 | 2): Operator<Pair<string, number>, WindowResult<string, number>> => (s) =>
    s.pipe(
      mapToPair(([w]) => [w, w] as const),
      keyBy(([w]: Pair<string, string>) => w),
      withWatermark(() => 0, 0),
      eventTimeWindow(tumbling(10_000), counter(version) as Aggregator<unknown, unknown, number>, { name: 'windows', outputMode: 'update', eventTime: () => 5 }),
    );

  it('migrates the stored accumulators when it loads them, and counts on', async () => {
    await run(windowed(1), WORDS, 0, 2);
    const { outputs, state } = await run(windowed(2), WORDS, 2, 4);
    expect(outputs.flat().map((r) => [r.key, r.value])).toContainEqual(['a', 4]);
    expect(state.windows).toContainEqual(['V', 2]);
  });
});
