import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as FastCheck from 'fast-check';
import { foreachBatch, ManualClock, map, SluiceError, StreamingContext, type DStream } from 'sluice';
import { levelCheckpoint } from 'sluice/checkpoint';
import { parsePositiveDuration } from 'sluice/extend';
import { committedState } from './committed-state.js';
import { faultyCheckpoint } from './faulty-checkpoint.js';
import { batched, crashPoints, type Crash, type FastCheckModule } from './generators.js';
import { holds, same, type LawRunOptions } from './law-support.js';
import { ScriptedSource, type Indexed } from './scripted-source.js';

/** An output of the user's that the crash law writes to and reads back (see {@link ExactlyOnceOptions.output}). */
export interface CrashLawOutput<U> {
  /** Defines the output on the stream under test; called on every (re)start of the job. */
  attach(stream: DStream<U>, ctx: StreamingContext): void;
  /** What the output holds (or a promise of it), read at the end of the job, its context still running. */
  read(ctx: StreamingContext): unknown;
}

/** Options of {@link exactlyOnceUnderCrash}. */
export interface ExactlyOnceOptions<T, U> extends LawRunOptions {
  /** Builds the job under test on the input stream; called on every (re)start, so it must build the same graph. */
  readonly build: (input: DStream<T>, ctx: StreamingContext) => DStream<U>;
  /** The input records; the law cuts them into batches. */
  readonly records: FastCheck.Arbitrary<readonly T[]>;
  /** Empty batches after the input (default 1), for timeouts and windows to fire. */
  readonly extraBatches?: number;
  /** Crashes per scenario (default 2: a second crash may hit the recovery of the first). */
  readonly maxCrashes?: number;
  /** The context's `checkpointInterval` (default 1). */
  readonly checkpointInterval?: number;
  /**
   * An output of the user's, made once per job with a fresh directory it may use (removed after):
   * what it holds after the crashed job must equal what it holds after the job that never crashed.
   */
  readonly output?: (directory: string) => CrashLawOutput<U>;
}

/** A generated scenario: the input batches and the crashes, in order (each in a later run). */
export interface CrashScenario<T> {
  readonly batches: T[][];
  readonly crashes: Crash[];
}

/** What a job left: the kit's outputs by batch id, the user's output, the committed state. */
interface JobResult<U> {
  readonly first: Map<number, U[]>;
  readonly last: Map<number, U[]>;
  written?: unknown;
  state?: Record<string, unknown[]>;
}

interface Job<T, U> {
  readonly options: ExactlyOnceOptions<T, U>;
  readonly batches: readonly (readonly T[])[];
  readonly interval: number;
  readonly directory: string;
  readonly output: CrashLawOutput<U> | undefined;
  readonly result: JobResult<U>;
}

/** How a run ended: failed (with the batch ids its first output wrote), or ran to the end. */
type RunEnd = { readonly failure: SluiceError; readonly injected: boolean; readonly wrote: readonly number[] } | { readonly failure?: undefined };

/**
 * Exactly-once under a crash at any step: a checkpointed job (in a temporary directory, on a
 * `ManualClock`) is crashed at generated points (see `crashPoints`: the fault hooks of the
 * checkpoint, or a throwing map or output the law adds), restarted on the same checkpoint with a
 * clock at the failed batch's time, and run to the end. Its outputs per batch id, the user's
 * `output` if given, and the committed state of every stateful operator must equal those of a
 * job that never crashed. Outputs are two `foreachBatch` the law adds, first and last (the user's
 * in between), keyed by batch id: idempotent. Temporary directories are removed.
 *
 * @example
 * await fc.assert(exactlyOnceUnderCrash(fc, {
 *   build: (s) => s.pipe(mapToPair((w: string) => [w, 1]), updateStateByKey((ones: number[], n?: number) => (n ?? 0) + ones.length)),
 *   records: fc.array(fc.constantFrom('a', 'b', 'c')),
 * }), { numRuns: 20 })
 */
export function exactlyOnceUnderCrash<T, U>(fc: FastCheckModule, options: ExactlyOnceOptions<T, U>): FastCheck.IAsyncProperty<[CrashScenario<T>]> {
  const interval = parsePositiveDuration(options.batchInterval ?? 1000, 'batchInterval');
  const every = options.checkpointInterval ?? 1;
  const extra = options.extraBatches ?? 1;
  // The job runs to a batch that persists the state, so the committed state compared is current.
  const batchesOf = (input: readonly unknown[]): number => Math.ceil((input.length + extra) / every) * every;
  const scenario = batched(fc, options.records, options).chain((batches) => {
    const crashes = fc.array(crashPoints(fc, { batches: batchesOf(batches) }), { minLength: 1, maxLength: options.maxCrashes ?? 2 });
    return crashes.map((c): CrashScenario<T> => ({ batches, crashes: c }));
  });
  return fc.asyncProperty(scenario, async ({ batches, crashes }) => {
    const until = batchesOf(batches) * interval;
    const root = await mkdtemp(join(tmpdir(), 'sluice-exactly-once-'));
    try {
      const job = async (name: string): Promise<Job<T, U>> => {
        const directory = join(root, name);
        await mkdir(join(directory, 'output'), { recursive: true });
        const output = options.output?.(join(directory, 'output'));
        return { options, batches, interval, directory, output, result: { first: new Map(), last: new Map() } };
      };
      const straight = await job('straight');
      const end = await run(straight, undefined, 0, until);
      if (end.failure !== undefined) throw end.failure;
      const crashed = await job('crashed');
      await crashAndRecover(crashed, crashes, until);
      const law = 'exactly-once, against a run that never crashed';
      same(`${law} (the first output, by batch id)`, sorted(crashed.result.first), sorted(straight.result.first));
      same(`${law} (the last output, by batch id)`, sorted(crashed.result.last), sorted(straight.result.last));
      same(`${law} (the committed state)`, crashed.result.state, straight.result.state);
      same(`${law} (the user's output)`, crashed.result.written, straight.result.written);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
}

/**
 * Runs the job armed with each crash in turn, every run after a failure restarting on the
 * checkpoint with its clock at the failed batch's time, until a run ends; then, after a failure,
 * runs it to the end.
 */
async function crashAndRecover<T, U>(job: Job<T, U>, crashes: readonly Crash[], until: number): Promise<void> {
  let from = 0;
  for (const crash of [...crashes, undefined]) {
    const end = await run(job, crash, from, until);
    if (end.failure === undefined) return;
    const { failure, wrote } = end;
    if (!end.injected) throw failure;
    holds(`exactly-once (after the crash at ${crash?.step} of batch ${failure.batchId})`, () => {
      assert.ok(failure.batchTime !== undefined && failure.batchId !== undefined, 'the failure names its batch');
      assert.ok(Math.max(-1, ...wrote) <= failure.batchId, `no output saw a batch after the failed one (the first output wrote ${JSON.stringify(wrote)})`);
    });
    from = failure.batchTime ?? from;
  }
}

/** Runs the job from clock time `from` to `until`, armed with `crash`; ends with its failure, or reads its results. */
async function run<T, U>(job: Job<T, U>, crash: Crash | undefined, from: number, until: number): Promise<RunEnd> {
  const clock = new ManualClock(from);
  const { options, result } = job;
  const ctx = new StreamingContext({
    batchInterval: job.interval,
    clock,
    checkpoint: faultyCheckpoint(levelCheckpoint(join(job.directory, 'checkpoint'), { interval: options.checkpointInterval ?? 1 }), {
      beforeWrite: (batchId) => at('beforeCommit', batchId),
      afterWrite: (batchId) => at('afterCommit', batchId),
      betweenCommitted: (batchId) => at('betweenCommitted', batchId),
    }),
    defaultParallelism: options.numPartitions ?? 2,
  });
  let injected = false;
  const wrote: number[] = [];
  const at = (step: Crash['step'], batchId: number): boolean => {
    const hit = crash?.step === step && crash.batch === batchId;
    injected ||= hit;
    return hit;
  };
  const crashIndex = crashRecord(job.batches, crash);
  const input = ctx.source(new ScriptedSource(job.batches, job.interval), { name: 'input' }).pipe(
    map((e: Indexed<T>) => {
      if (e.index === crashIndex) {
        injected = true;
        throw new Error(`injected crash on record ${e.index}`);
      }
      return e.record;
    }),
  );
  const out = options.build(input, ctx);
  out.pipe(
    foreachBatch((records, { batchId }) => {
      if (at('afterPlan', batchId)) throw new Error(`injected crash in the first output of batch ${batchId}`);
      result.first.set(batchId, [...records]);
      wrote.push(batchId);
    }),
  );
  job.output?.attach(out, ctx);
  out.pipe(
    foreachBatch((records, { batchId }) => {
      if (at('betweenSinks', batchId)) throw new Error(`injected crash in the last output of batch ${batchId}`);
      result.last.set(batchId, [...records]);
    }),
  );
  let failed = false;
  ctx.addListener((e) => {
    if (e.type === 'batchFailed') failed = true;
  });
  await ctx.start();
  await clock.advanceTo(until);
  if (failed || ctx.failure !== undefined || ctx.state !== 'active') {
    // Rejects once the context stopped and closed its checkpoint, so a restart can open it.
    const failure = await ctx.awaitTermination().then(
      () => undefined,
      (error: unknown) => error,
    );
    if (!(failure instanceof SluiceError)) throw new Error(`exactly-once: expected the run to fail with a SluiceError, got ${String(failure)}`);
    return { failure, injected, wrote };
  }
  result.state = await committedState(ctx);
  result.written = await job.output?.read(ctx);
  await ctx.stop();
  return {};
}

/** The index in the whole input of the record a `midCompute` crash throws on, if any. */
function crashRecord(batches: readonly (readonly unknown[])[], crash: Crash | undefined): number | undefined {
  if (crash?.step !== 'midCompute') return undefined;
  const size = batches[crash.batch]?.length ?? 0;
  if (size === 0) return undefined;
  let start = 0;
  for (let k = 0; k < crash.batch; k++) start += batches[k]?.length ?? 0;
  return start + (crash.record % size);
}

const sorted = <U>(outputs: Map<number, U[]>): [number, U[]][] => [...outputs].sort((a, b) => a[0] - b[0]);
