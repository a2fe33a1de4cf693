import { foreachBatch, ManualClock, parsePositiveDuration, StreamingContext, type DStream, type DurationLike, type StateBackend } from 'sluice';

/** Options of {@link runBatches}. */
export interface RunBatchesOptions {
  /** The batch interval (default 1000 ms). */
  readonly batchInterval?: DurationLike;
  /** How many batches to run (default: one per input batch); extra batches get no input. */
  readonly numBatches?: number;
  /** Partitions of each input batch and keyed result (default 2, so partitioning is exercised). */
  readonly numPartitions?: number;
  /**
   * Creates the state backend of the run's context (default: in memory), such as
   * `() => LevelStateBackend.open(dir)`; the context closes it when the run ends.
   */
  readonly stateBackend?: () => StateBackend | Promise<StateBackend>;
  /** Called with the context before it starts: to add listeners, ... */
  readonly configure?: (ctx: StreamingContext) => Promise<void> | void;
}

/**
 * Runs `build` over input batches on a `ManualClock`, the way Spark's own operator tests do:
 * input batch `i` is batch `i` of the input stream, and the result holds the records the built
 * stream produced, one entry per batch in which it produced a batch (every batch for most
 * operators; every slide for windowed ones).
 *
 * @param input - the records of each input batch.
 * @param build - turns the input stream into the stream under test.
 * @returns the output batches, in order.
 * @throws the `SluiceError` that failed a batch, if one did.
 * @example
 * expect(await runBatches([['a', 'b'], ['a']], (s) => s.pipe(countByValue())))
 *   .toEqual([[['a', 1], ['b', 1]], [['a', 1]]]);
 */
export function runBatches<T, U>(
  input: readonly (readonly T[])[],
  build: (stream: DStream<T>) => DStream<U>,
  options: RunBatchesOptions = {},
): Promise<U[][]> {
  return runOnManualClock([input], ([stream]) => build(stream as DStream<T>), input.length, options);
}

/**
 * Like {@link runBatches} with two input streams, for joins, cogroups and unions.
 *
 * @example
 * await runBatches2([[['a', 1]]], [[['a', 'x']]], (l, r) => l.pipe(join(r))) // [[['a', [1, 'x']]]]
 */
export function runBatches2<A, B, U>(
  left: readonly (readonly A[])[],
  right: readonly (readonly B[])[],
  build: (left: DStream<A>, right: DStream<B>) => DStream<U>,
  options: RunBatchesOptions = {},
): Promise<U[][]> {
  return runOnManualClock([left, right], ([a, b]) => build(a as DStream<A>, b as DStream<B>), Math.max(left.length, right.length), options);
}

async function runOnManualClock<U>(
  inputs: readonly (readonly (readonly unknown[])[])[],
  build: (streams: readonly DStream<unknown>[]) => DStream<U>,
  inputBatches: number,
  options: RunBatchesOptions,
): Promise<U[][]> {
  const interval = parsePositiveDuration(options.batchInterval ?? 1000, 'batchInterval');
  const numBatches = options.numBatches ?? inputBatches;
  const clock = new ManualClock();
  const stateBackend = await options.stateBackend?.();
  const ctx = new StreamingContext({ batchInterval: interval, clock, defaultParallelism: options.numPartitions ?? 2, ...(stateBackend === undefined ? {} : { stateBackend }) });
  const streams = inputs.map((batches, i) => ctx.queueStream(batches.map((b) => [...b]), { name: `input-${i}` }));
  const outputs: U[][] = [];
  build(streams).pipe(foreachBatch<U>((records) => void outputs.push([...records])));
  await options.configure?.(ctx);
  let failure: Error | undefined;
  ctx.awaitTermination().catch((error: unknown) => {
    failure = error instanceof Error ? error : new Error(String(error));
  });
  await ctx.start();
  for (let i = 0; i < numBatches && ctx.state === 'active'; i++) await clock.advance(interval);
  await ctx.stop();
  if (failure !== undefined) throw failure;
  return outputs;
}
