import fc from 'fast-check';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { filter, foreachBatch, keyBy, map, mapToPair, union, type DStream, type Pair } from 'sluice';
import { fileSink } from 'sluice/checkpoint';
import { mapWithState, stateSpec, updateStateByKey, type State } from 'sluice/state';
import { agg, eventTimeWindow, tumbling, withWatermark, type WindowResult } from 'sluice/windows';
import { exactlyOnceUnderCrash, type CrashLawOutput } from '../kit/crash-law.js';
import { keyedEvents, type KeyedEvent } from '../kit/generators.js';
import { expectLawToFail } from './law-failure.js';

const PARAMS = { numRuns: 15 } as const;
const events = keyedEvents(fc, { keys: 3, maxEvents: 12, maxDisorder: 10, lateFraction: 0.1 });
/** Smaller scenarios for the laws that must fail: each shrinking step runs the job twice or more. */
const few = keyedEvents(fc, { keys: 1, minEvents: 2, maxEvents: 6 });
// Enough runs that a law which must fail finds its counterexample whatever the seed (it stops at the first).
const FAILING = { numRuns: 100 } as const;
const totals = (s: DStream<KeyedEvent>) =>
  s.pipe(
    mapToPair((e: KeyedEvent): Pair<string, number> => [e.key, e.value]),
    updateStateByKey((values: number[], total: { n: number; sum: number } | undefined) => ({ n: (total?.n ?? 0) + values.length, sum: values.reduce((a, v) => a + v, total?.sum ?? 0) }), { name: 'totals' }),
  );

/** The files of a directory and their contents, in name order. */
async function filesOf(directory: string): Promise<[string, string][]> {
  const names = (await readdir(directory)).sort();
  return Promise.all(names.map(async (name): Promise<[string, string]> => [name, await readFile(join(directory, name), 'utf8')]));
}

describe('exactlyOnceUnderCrash', () => {
  it('holds for updateStateByKey, with a fileSink as the user output', async () => {
    const output = (directory: string): CrashLawOutput<Pair<string, unknown>> => ({
      attach: (stream) => void stream.pipe(fileSink(directory)),
      read: () => filesOf(directory),
    });
    await fc.assert(exactlyOnceUnderCrash(fc, { build: totals, records: events, output }), PARAMS);
  });

  it('holds for a stateless chain, a mapWithState and an event-time window, with checkpointInterval 2', async () => {
    const build = (s: DStream<KeyedEvent>) => {
      const counted = s.pipe(
        filter((e: KeyedEvent) => e.value % 3 !== 0),
        keyBy((e: KeyedEvent) => e.key),
        mapWithState(stateSpec((key: string, e: KeyedEvent | undefined, state: State<number>) => {
          const n = (state.getOption() ?? 0) + 1;
          state.update(n);
          return [key, n, e?.id];
        }).name('counts')),
      );
      const windows = s.pipe(
        withWatermark((e: KeyedEvent) => e.time, 5),
        keyBy((e: KeyedEvent) => e.key),
        eventTimeWindow(tumbling(20), agg.count(), { name: 'windows' }),
        map((r: WindowResult<string, number>): unknown => [r.key, r.window.start, r.value]),
      );
      return counted.pipe(map((r): unknown => r), union(windows));
    };
    await fc.assert(exactlyOnceUnderCrash(fc, { build, records: events, checkpointInterval: 2, extraBatches: 2 }), PARAMS);
  });

  it('catches an operator that keeps its state outside the state store (a counter in a closure)', async () => {
    const build = (s: DStream<KeyedEvent>) => {
      const seen = new Map<string, number>();
      return s.pipe(
        map((e: KeyedEvent) => {
          seen.set(e.key, (seen.get(e.key) ?? 0) + 1);
          return [e.key, seen.get(e.key)];
        }),
      );
    };
    const failure = await expectLawToFail(exactlyOnceUnderCrash(fc, { build, records: few, maxBatches: 4 }), FAILING);
    expect(failure.cause).toContain('exactly-once');
  }, 60_000);

  it('catches a user output that appends instead of writing by batch id', async () => {
    const appending = (): CrashLawOutput<unknown> => {
      const rows: unknown[] = [];
      return { attach: (stream) => void stream.pipe(foreachBatch((records) => void rows.push(...records))), read: () => [...rows] };
    };
    const failure = await expectLawToFail(exactlyOnceUnderCrash(fc, { build: totals, records: few, output: appending, maxBatches: 4 }), FAILING);
    expect(failure.cause).toContain("(the user's output)");
  }, 60_000);
});
