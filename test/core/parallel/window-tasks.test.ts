import { describe, expect, it } from 'vitest';
import { foreachBatch, map, mapToPair, mapValues, StreamingContext, type DStream, type Pair } from 'sluice';
import { SerializingExecutor, type Executor, type StageContext, type Task, type TaskStep } from 'sluice/extend';
import { countByValueAndWindow, groupByKeyAndWindow, reduceByKeyAndWindow } from 'sluice/windows';

/*
 * The keyed batch-time windows' merge runs as task steps: through the SerializingExecutor (every
 * task's input and result copied, run on a second graph, as a worker runs it) each batch's output
 * equals the inline one, and the figures say what the window tasks carry per batch.
 */

const BATCHES = 8;
const RECORDS = 2000;
const KEYS = 300;

/** Keys drift from batch to batch, so keys enter and leave the windows. */
const input = Array.from({ length: BATCHES }, (_, b) => Array.from({ length: RECORDS }, (_, i) => ((i * 7919 + b * 37) % (KEYS + 20 * b)) + b));

function build(out: unknown[][]) {
  return (ctx: StreamingContext): void => {
    const numbers = ctx.queueStream(input.map((b) => [...b]), { name: 'numbers', numPartitions: 3 });
    const pairs = numbers.pipe(mapToPair((x: number) => [`k${x}`, x]));
    const collect = (name: string) => (s: DStream<Pair<string, number>>) =>
      s.pipe(
        foreachBatch((records, { batchId }) => {
          out.push([name, batchId, records]);
        }),
      );
    pairs.pipe(reduceByKeyAndWindow((a: number, b: number) => a + b, (a, b) => a - b, '4s', '1s', { name: 'incremental', numPartitions: 4, filter: ([, n]) => n !== 0 }), collect('incremental'));
    pairs.pipe(reduceByKeyAndWindow((a: number, b: number) => a + b, undefined, '3s', '1s', { name: 'full', numPartitions: 4 }), collect('full'));
    pairs.pipe(groupByKeyAndWindow<string, number>('2s', '1s', { name: 'groups', numPartitions: 2 }), mapValues((values) => values.length), collect('groups'));
    numbers.pipe(map((x: number) => x % 50), countByValueAndWindow('3s', '2s', { name: 'counts', numPartitions: 4 }), map(([k, n]) => [String(k), n] as Pair<string, number>), collect('counts'));
  };
}

/** The SerializingExecutor, counting the payload bytes of the window stages per batch. */
class Counting implements Executor {
  readonly inner: SerializingExecutor;
  readonly bytes = new Map<string, number[]>();

  constructor(inner: SerializingExecutor) {
    this.inner = inner;
  }

  run<R>(tasks: readonly Task<R>[]): Promise<R[]> {
    return this.inner.run(tasks);
  }

  async runStage<I, R>(step: TaskStep<I, R>, inputs: readonly I[], context: StageContext): Promise<R[]> {
    const before = this.inner.payloadBytes;
    const results = await this.inner.runStage(step, inputs, context);
    if (step.name === 'windowSlide' || step.name === 'windowMerge') {
      const perBatch = this.bytes.get(step.stage) ?? [];
      perBatch[context.batchId] = (perBatch[context.batchId] ?? 0) + this.inner.payloadBytes - before;
      this.bytes.set(step.stage, perBatch);
    }
    return results;
  }
}

async function runWith(executor: Executor | undefined, out: unknown[][]): Promise<void> {
  const ctx = new StreamingContext({ batchInterval: 1000, ...(executor === undefined ? {} : { executor }) });
  build(out)(ctx);
  await ctx.runToCompletion();
}

describe('keyed batch-time windows as task steps', () => {
  it('give the inline outputs batch by batch through the SerializingExecutor, every window stage sent as tasks, incremental windows kept by the worker', async () => {
    const inline: unknown[][] = [];
    await runWith(undefined, inline);
    const serializing = async (locality: boolean): Promise<{ out: unknown[][]; counting: Counting }> => {
      const twin = new StreamingContext({ batchInterval: 1000 });
      build([])(twin);
      const counting = new Counting(new SerializingExecutor(twin.graph, { locality }));
      const out: unknown[][] = [];
      await runWith(counting, out);
      return { out, counting };
    };
    const local = await serializing(true);
    const whole = await serializing(false);

    expect(local.out).toEqual(inline);
    expect(whole.out).toEqual(inline);
    // Keys dropped by the filter and keys that entered late: the windows are not trivial.
    const incremental = inline.filter(([name]) => name === 'incremental').map(([, , records]) => (records as unknown[]).length);
    expect(new Set(incremental).size).toBeGreaterThan(2);
    // Each window stage ran at every slide (countByValueAndWindow slides every other batch).
    const { bytes } = local.counting;
    expect([...bytes.keys()].sort()).toEqual(['counts/windowSlide', 'full/windowMerge', 'groups/windowMerge', 'incremental/windowSlide']);
    expect(bytes.get('counts/windowSlide')?.filter((n) => n !== undefined)).toHaveLength(BATCHES / 2);
    for (const stage of ['full/windowMerge', 'groups/windowMerge', 'incremental/windowSlide']) expect(bytes.get(stage)?.filter((n) => n !== undefined)).toHaveLength(BATCHES);
    // The incremental windows stayed with the one worker: after the first slide no window entry was sent again.
    expect(local.counting.inner.stateRowsShipped).toBe(0);
    expect(local.counting.inner.stateRowsCached).toBeGreaterThan(0);
    expect(local.counting.inner.misses).toBe(0);
    expect(whole.counting.inner.stateRowsShipped).toBe(local.counting.inner.stateRowsCached);
    const sum = (stage: string, c: Counting): number => (c.bytes.get(stage) ?? []).reduce((a, b) => a + (b ?? 0), 0);
    expect(sum('incremental/windowSlide', local.counting)).toBeLessThan(sum('incremental/windowSlide', whole.counting));
    // The figures (v8.serialize bytes of the task payloads, per batch).
    const figures = (c: Counting): string[] => [...c.bytes].map(([stage, perBatch]) => `  ${stage}: ${perBatch.map((n) => (n === undefined ? '-' : String(n))).join(' ')}`);
    console.log(`window task payload bytes per batch (${RECORDS} records a batch, keys drifting):\nwindows kept by the worker\n${figures(local.counting).join('\n')}\nevery window sent whole\n${figures(whole.counting).join('\n')}`);
  });

  it('runs a slide again, sent whole, when the worker does not hold the window the driver expects (a fresh worker took its place)', async () => {
    const inline: unknown[][] = [];
    await runWith(undefined, inline);
    // The worker's graph is replaced by a fresh one (empty caches) after the third batch's stages.
    const fresh = (): StreamingContext => {
      const twin = new StreamingContext({ batchInterval: 1000 });
      build([])(twin);
      return twin;
    };
    let twin = fresh();
    let batches = 0;
    const executor = new SerializingExecutor(() => twin.graph);
    const out: unknown[][] = [];
    const ctx = new StreamingContext({ batchInterval: 1000, executor });
    build(out)(ctx);
    ctx.addListener((event) => {
      if (event.type === 'batchCompleted' && ++batches === 3) twin = fresh();
    });
    await ctx.runToCompletion();
    expect(out).toEqual(inline);
    // Both incremental windows (reduceByKeyAndWindow slides each batch, countByValueAndWindow every other) missed on their 4 partitions once.
    expect(executor.misses).toBe(8);
    expect(executor.stateRowsShipped).toBeGreaterThan(0);
  });
});
