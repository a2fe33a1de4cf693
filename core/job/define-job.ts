import type { StreamingContextOptions } from '../context-options.js';
import { SluiceError } from '../errors.js';
import { StreamingContext } from '../streaming-context.js';
import { fingerprintDifference, fullFingerprintOf } from './full-fingerprint.js';

/**
 * What marks a job definition. A registered symbol, so that a job module that resolved another
 * copy of Sluice than the tool running it is still recognized.
 */
const JOB = Symbol.for('sluice.jobDefinition');

/** Defines a job's graph on a fresh context: sources, operators and outputs, nothing else. */
export type JobBuild = (ctx: StreamingContext) => void | Promise<void>;

/**
 * What a runner may set on the context of a job besides the job's own options: how it runs
 * (clock, logger, executor, the default partition count), the checkpoint (the pre-deploy
 * check builds the job on the checkpoint it checks), and the partition of a partitioned job the
 * context runs (`ctx.partition`, set by `runJob(module, { group })`).
 */
export type JobOverrides = Pick<StreamingContextOptions, 'clock' | 'logger' | 'executor' | 'checkpoint' | 'defaultParallelism' | 'partition'>;

/**
 * A streaming job defined in a module (`export default defineJob(...)`), so that tools can build
 * it: `sluice run`, `sluice check`, and later worker threads that build the same graph. See
 * {@link defineJob}.
 */
export interface JobDefinition {
  /** The options of the job's context. */
  readonly options: StreamingContextOptions;
  /** The function that defines the graph. */
  readonly build: JobBuild;
  /**
   * Creates the job's context, not started, from its options (with `overrides`) and its build
   * function. It builds the job twice and compares the two graphs, so that every tool that builds
   * it gets the same one. With a checkpoint it is Spark's `getOrCreate`: `start()` (or
   * `runToCompletion()`) recovers from the checkpoint when it holds one.
   *
   * @throws SluiceError `JOB_NOT_DETERMINISTIC` naming the first node that differs between the builds.
   * @throws what the context's constructor or the build function throws.
   */
  create(overrides?: JobOverrides): Promise<StreamingContext>;
  readonly [JOB]: true;
}

/**
 * Defines a streaming job: the options of its context (`batchInterval`, `checkpoint`, ...) and a
 * function that builds its graph on a context. Export it as the default export of a module, and
 * run it with `sluice run <module>` (docs/cli.md), or create its context with `create()`.
 *
 * `build` must define the same graph every time it runs: tools build a job more than once (the
 * CLI checks it on every run), so names from `Math.random()` or the clock, counters at the
 * module's top level, or resources opened while building (rather than by sources and sinks at
 * start) are refused with `JOB_NOT_DETERMINISTIC` or would leak.
 *
 * @throws TypeError when `options` is not an object or `build` not a function.
 * @example
 * export default defineJob({ batchInterval: '1s', checkpoint: levelCheckpoint('./ckpt') }, (ctx) => {
 *   ctx.rateStream({ name: 'rate', rowsPerSecond: 100 }).pipe(mapToPair((r) => [r.value % 10, 1]), reduceByKey((a, b) => a + b), print());
 * });
 */
export function defineJob(options: StreamingContextOptions, build: JobBuild): JobDefinition {
  if (typeof options !== 'object' || options === null) throw new TypeError('defineJob: pass the options of the job\'s context first, such as { batchInterval: "1s" }.');
  if (typeof build !== 'function') throw new TypeError('defineJob: pass, after the options, the function that builds the graph: (ctx) => { ... }.');
  return Object.freeze({
    options,
    build,
    [JOB]: true as const,
    async create(overrides: JobOverrides = {}): Promise<StreamingContext> {
      const first = await buildOnce(options, build, overrides);
      const second = await buildOnce(options, build, overrides);
      const difference = fingerprintDifference(fullFingerprintOf(first.graph), fullFingerprintOf(second.graph));
      if (difference !== undefined) {
        const operator = firstName(difference);
        throw new SluiceError(
          'JOB_NOT_DETERMINISTIC',
          `The job built a different graph when it was built again (${difference}). A job must define the same graph every time it is built: give operators, sources and outputs fixed names (not from Math.random(), a counter or the clock), and keep side effects out of the module's top level and of the build function.`,
          operator === undefined ? {} : { operator },
        );
      }
      return first;
    },
  });
}

/** Whether `value` is a job definition (made by `defineJob`, from any copy of Sluice). */
export function isJobDefinition(value: unknown): value is JobDefinition {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[JOB] === true;
}

async function buildOnce(options: StreamingContextOptions, build: JobBuild, overrides: JobOverrides): Promise<StreamingContext> {
  const ctx = new StreamingContext({ ...options, ...overrides });
  await build(ctx);
  return ctx;
}

/** The first quoted name of a difference, for the error's `operator`. */
function firstName(difference: string): string | undefined {
  return /'([^']*)'/.exec(difference)?.[1];
}
