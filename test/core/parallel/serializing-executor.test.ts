import { describe, expect, it } from 'vitest';
import { foreachBatch, map, mapToPair, reduceByKey, StreamingContext, type BatchProgress } from 'sluice';
import { mapWithState, stateSpec, updateStateByKey } from 'sluice/state';
import { SerializingExecutor, type Executor } from 'sluice/extend';

/** A job's build: numbers through a map that reads `settings`, set aside when it throws, summed by key. */
function build(settings: { factor: number }, out: unknown[][]) {
  return (ctx: StreamingContext): void => {
    ctx
      .queueStream([[1, 2, 3, 4, 5, 6]], { name: 'numbers', numPartitions: 3 })
      .pipe(
        map(
          (x: number) => {
            if (x === 4) throw new Error('no 4');
            return { parity: x % 2, value: x * settings.factor };
          },
          { name: 'scaled', onError: 'deadLetter' },
        ),
        mapToPair(({ parity, value }) => [parity, value]),
        reduceByKey((a, b) => a + b, { numPartitions: 2 }),
        foreachBatch((records) => {
          out.push([...records]);
        }),
      );
    ctx.deadLetters.pipe(
      foreachBatch((letters) => {
        out.push(letters.map((l) => [l.operator, l.record, l.message]));
      }),
    );
  };
}

async function runOnce(executor: (twinOut: unknown[][]) => Executor | undefined, settings: { factor: number }, changeAfterBuild?: (s: { factor: number }) => void): Promise<{ out: unknown[][]; progress: BatchProgress[] }> {
  const out: unknown[][] = [];
  const twinOut: unknown[][] = [];
  const chosen = executor(twinOut);
  const ctx = new StreamingContext({ batchInterval: 1000, ...(chosen === undefined ? {} : { executor: chosen }) });
  build(settings, out)(ctx);
  changeAfterBuild?.(settings);
  const progress: BatchProgress[] = [];
  ctx.addListener((event) => {
    if (event.type === 'batchCompleted') progress.push(event.progress);
  });
  await ctx.runToCompletion();
  return { out, progress };
}

/** A SerializingExecutor whose second graph is built by the same build function, with settings of its own. */
function serializing(twinOut: unknown[][]): Executor {
  const twin = new StreamingContext({ batchInterval: 1000 });
  build({ factor: 10 }, twinOut)(twin);
  return new SerializingExecutor(twin.graph);
}

describe('SerializingExecutor', () => {
  it('gives the inline results, set-aside counts and dead letters for a job that depends on nothing but its build', async () => {
    const inline = await runOnce(() => undefined, { factor: 10 });
    const copied = await runOnce(serializing, { factor: 10 });
    expect(copied.out).toEqual(inline.out);
    expect(inline.out[1]).toEqual([['scaled', 4, 'no 4']]);
    const counts = (p: BatchProgress[]): unknown => p.map((b) => [b.numDeadLetteredRecords, b.operators]);
    expect(counts(copied.progress)).toEqual(counts(inline.progress));
  });

  it('shows a task that reads the driver’s memory: a setting changed after the build reaches inline tasks only', async () => {
    const change = (s: { factor: number }): void => {
      s.factor = 1000;
    };
    const inline = await runOnce(() => undefined, { factor: 10 }, change);
    const copied = await runOnce(serializing, { factor: 10 }, change);
    expect(new Map(inline.out[0] as [number, number][])).toEqual(new Map([[0, 8000], [1, 9000]]));
    // The tasks ran on the second graph, whose closures saw their own settings.
    expect(new Map(copied.out[0] as [number, number][])).toEqual(new Map([[0, 80], [1, 90]]));
  });

  it('sends each key group’s state rows once with locality, every batch without, with the same results', async () => {
    /** Counts per key in updateStateByKey and mapWithState, 6 batches over the same 40 keys, 4 partitions. */
    const stateful = (out: unknown[][]) => (ctx: StreamingContext): void => {
      const pairs = ctx
        .queueStream(Array.from({ length: 6 }, (_, b) => Array.from({ length: 80 }, (_, i) => `k${(i * 7 + b) % 40}`)), { name: 'words', numPartitions: 2 })
        .pipe(mapToPair((w: string) => [w, 1]));
      pairs.pipe(
        updateStateByKey((ones: number[], n: number | undefined) => (n ?? 0) + ones.length, { name: 'totals', numPartitions: 4 }),
        foreachBatch((records) => {
          out.push(['totals', ...records]);
        }),
      );
      pairs.pipe(
        mapWithState(stateSpec((key: string, _one: number | undefined, state) => {
          const seen = ((state.getOption() as number | undefined) ?? 0) + 1;
          state.update(seen);
          return [key, seen];
        }).name('seen').numPartitions(4)),
        foreachBatch((records) => {
          out.push(['seen', ...records]);
        }),
      );
    };
    const runWith = async (locality: boolean | undefined): Promise<{ out: unknown[][]; executor?: SerializingExecutor }> => {
      const out: unknown[][] = [];
      let executor: SerializingExecutor | undefined;
      if (locality !== undefined) {
        const twin = new StreamingContext({ batchInterval: 1000 });
        stateful([])(twin);
        executor = new SerializingExecutor(twin.graph, { locality });
      }
      const ctx = new StreamingContext({ batchInterval: 1000, ...(executor === undefined ? {} : { executor }) });
      stateful(out)(ctx);
      await ctx.runToCompletion();
      return executor === undefined ? { out } : { out, executor };
    };
    const inline = await runWith(undefined);
    const local = await runWith(true);
    const whole = await runWith(false);
    expect(local.out).toEqual(inline.out);
    expect(whole.out).toEqual(inline.out);
    // 40 keys in each operator: with locality each key's row is sent at most once (here never: batch 1 creates them).
    expect(local.executor?.stateRowsShipped).toBe(0);
    expect(local.executor?.stateRowsCached).toBe(2 * 40 * 5);
    expect(local.executor?.misses).toBe(0);
    expect(whole.executor?.stateRowsShipped).toBe(2 * 40 * 5);
    expect(whole.executor?.stateRowsCached).toBe(0);
    expect(local.executor?.payloadBytes).toBeLessThan(whole.executor?.payloadBytes ?? 0);
  });
});

