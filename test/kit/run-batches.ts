import { foreachBatch, ManualClock, StreamingContext, type DStream, type DurationLike } from 'sluice';
import { parsePositiveDuration, type StateBackend } from 'sluice/extend';

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

/** Named input streams for {@link runBatches}: each name's record batches. */
export type NamedInputs = Readonly<Record<string, readonly (readonly unknown[])[]>>;

/** The streams {@link runBatches} builds from {@link NamedInputs}: one `DStream` per name, of its records' type. */
export type InputStreams<I extends NamedInputs> = { readonly [K in keyof I]: DStream<I[K] extends readonly (readonly (infer T)[])[] ? T : never> };

/**
 * Runs `build` over input batches on a `ManualClock`, the way Spark's own operator tests do:
 * input batch `i` is batch `i` of the input stream, and the result holds the records the built
 * stream produced, one entry per batch in which it produced a batch (every batch for most
 * operators; every slide for windowed ones).
 *
 * With several inputs (joins, cogroups, unions), name them: `runBatches({ left, right }, ({ left,
 * right }) => ...)`; each name becomes a stream of its own (a source named `input-<name>`), and
 * the run lasts as long as the longest.
 *
 * @param input - the records of each input batch, or an object of named inputs.
 * @param build - turns the input stream (or the named streams) into the stream under test.
 * @returns the output batches, in order.
 * @throws the `SluiceError` that failed a batch, if one did.
 * @example
 * expect(await runBatches([['a', 'b'], ['a']], (s) => s.pipe(countByValue())))
 *   .toEqual([[['a', 1], ['b', 1]], [['a', 1]]]);
 * await runBatches({ left: [[['a', 1]]], right: [[['a', 'x']]] }, ({ left, right }) => left.pipe(join(right))) // [[['a', [1, 'x']]]]
 */
export function runBatches<T, U>(input: readonly (readonly T[])[], build: (stream: DStream<T>) => DStream<U>, options?: RunBatchesOptions): Promise<U[][]>;
export function runBatches<I extends NamedInputs, U>(inputs: I, build: (streams: InputStreams<I>) => DStream<U>, options?: RunBatchesOptions): Promise<U[][]>;
export function runBatches<U>(
  input: readonly (readonly unknown[])[] | NamedInputs,
  build: ((stream: DStream<unknown>) => DStream<U>) | ((streams: Record<string, DStream<unknown>>) => DStream<U>),
  options: RunBatchesOptions = {},
): Promise<U[][]> {
  if (Array.isArray(input)) {
    const batches = input as readonly (readonly unknown[])[];
    return runOnManualClock({ '0': batches }, (streams) => (build as (stream: DStream<unknown>) => DStream<U>)(streams['0'] as DStream<unknown>), batches.length, options);
  }
  if (typeof input !== 'object' || input === null) throw new TypeError('runBatches: pass the input batches (an array of arrays of records), or an object of named inputs.');
  const named = input as NamedInputs;
  const longest = Math.max(0, ...Object.values(named).map((batches) => batches.length));
  return runOnManualClock(named, build as (streams: Record<string, DStream<unknown>>) => DStream<U>, longest, options);
}

async function runOnManualClock<U>(
  inputs: NamedInputs,
  build: (streams: Record<string, DStream<unknown>>) => DStream<U>,
  inputBatches: number,
  options: RunBatchesOptions,
): Promise<U[][]> {
  const interval = parsePositiveDuration(options.batchInterval ?? 1000, 'batchInterval');
  const numBatches = options.numBatches ?? inputBatches;
  const clock = new ManualClock();
  const stateBackend = await options.stateBackend?.();
  const ctx = new StreamingContext({ batchInterval: interval, clock, defaultParallelism: options.numPartitions ?? 2, ...(stateBackend === undefined ? {} : { stateBackend }) });
  const streams: Record<string, DStream<unknown>> = {};
  for (const [name, batches] of Object.entries(inputs)) streams[name] = ctx.queueStream(batches.map((b) => [...b]), { name: `input-${name}` });
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
