import { afterAll, describe, expect, it } from 'vitest';
import { keyBy, mapToPair, type DStream, type StreamingContext } from 'sluice';
import { mapWithState, stateSpec, updateStateByKey, type State } from 'sluice/state';
import { runBatches } from 'sluice/testing';
import { BACKENDS, backendFactory, removeBackendDirs } from './backends.js';

afterAll(removeBackendDirs);

const counting = stateSpec((key: string, _value: string | undefined, state: State<number>): readonly [string, number] => {
  const next = (state.getOption() ?? 0) + 1;
  if (!state.isTimingOut()) state.update(next);
  return [key, next];
});

/** Collects the `stateRows` of the operator named `name` after each batch. */
function stateRowsOf(name: string, rows: number[]): (ctx: StreamingContext) => void {
  return (ctx) => {
    ctx.addListener((e) => {
      if (e.type === 'batchCompleted') for (const o of e.progress.operators) if (o.operator === name) rows.push(o.stateRows ?? -1);
    });
  };
}

describe.each(BACKENDS)('stateRows counts keys, not internal rows, on the %s backend', (backend) => {
  const stateBackend = backendFactory(backend);
  const options = stateBackend === undefined ? {} : { stateBackend };
  const words = (s: DStream<string>): DStream<readonly [string, string]> => s.pipe(keyBy((w: string) => w));

  it('mapWithState with a TTL (a deadline row beside each entry)', async () => {
    const rows: number[] = [];
    // TTL 2 s at 1 s batches: a and b written at 1000 expire at the batch of 4000; c, written at 2000, at 5000.
    await runBatches([['a', 'b', 'a'], ['c'], [], [], []], (s) => words(s).pipe(mapWithState(counting.ttl('2s').name('counts'))), {
      ...options,
      configure: stateRowsOf('counts', rows),
    });
    expect(rows).toEqual([2, 3, 3, 1, 0]);
  });

  it('mapWithState with a timeout and timers (deadline and timer rows)', async () => {
    const rows: number[] = [];
    const withTimer = stateSpec((key: string, _v: string | undefined, state: State<number>): string => {
      if (!state.isTimingOut()) {
        state.update((state.getOption() ?? 0) + 1);
        state.setTimer(60_000);
      }
      return key;
    });
    await runBatches([['a', 'b'], ['a'], ['c']], (s) => words(s).pipe(mapWithState(withTimer.timeout('1m').onTimer(() => undefined).name('timed'))), {
      ...options,
      configure: stateRowsOf('timed', rows),
    });
    expect(rows).toEqual([2, 2, 3]);
  });

  it('updateStateByKey at state version 2 (a version row beside the entries)', async () => {
    const rows: number[] = [];
    const sum = (ones: number[], n: { n: number } | undefined): { n: number } => ({ n: (n?.n ?? 0) + ones.length });
    await runBatches(
      [['a', 'b'], ['a', 'c'], []],
      (s) => s.pipe(mapToPair((w: string) => [w, 1]), updateStateByKey(sum, { name: 'totals', version: 2, migrate: (old) => ({ n: old as number }) })),
      { ...options, configure: stateRowsOf('totals', rows) },
    );
    expect(rows).toEqual([2, 3, 3]);
  });
});
