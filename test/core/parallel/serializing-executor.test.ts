import { describe, expect, it } from 'vitest';
import { foreachBatch, map, mapToPair, reduceByKey, StreamingContext, type BatchProgress } from 'sluice';
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
});
