import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { SluiceError } from '../errors.js';
import { isJobDefinition, type JobDefinition, type JobOverrides } from '../job/define-job.js';
import { fingerprintDifference, fullFingerprintOf } from '../job/full-fingerprint.js';
import type { StreamingContext } from '../streaming-context.js';
import type { JobGroupRun, RunJobGroupOptions } from './job-group.js';
import { PoolExecutor } from './pool-executor.js';
import type { WorkerHello } from './worker-entry.js';
import { WorkerPool, type SpeculationOptions } from './worker-pool.js';

/** Options of {@link runJob}: how many worker threads, and what a runner may set on the job's context. */
export interface RunJobOptions extends Omit<JobOverrides, 'executor'> {
  /**
   * Worker threads that run the batches' tasks (default: the available cores minus one, at
   * least 1). `0` runs every task inline, on the calling thread, as a context made with
   * `new StreamingContext(...)` does.
   */
  readonly workers?: number;
  /**
   * Partitions of keyed operators that set none (default: the job's `defaultParallelism`, or 4
   * per worker with workers, so that a skewed partition does not hold the others back).
   */
  readonly defaultParallelism?: number;
  /**
   * When a task is copied to an idle worker because it runs long (a straggler), or `false` for
   * never (default: once 75% of its stage is done and it has run 1.5 times the median, at least
   * 50 ms; see `SpeculationOptions`).
   */
  readonly speculation?: false | SpeculationOptions;
  /** How many times a task may lose its worker before its batch fails with `WORKER_FAILED` (default 3). */
  readonly maxAttempts?: number;
  /**
   * Keyed state stays local (default true): each worker caches the rows of the key groups it
   * ran, their next tasks go to it when it is free, and the driver sends only the rows it lacks.
   * `false` sends every keyed state task whole to any worker (to measure what locality saves).
   */
  readonly locality?: boolean;
}

/**
 * Options of {@link runJob} that run this process as one instance of a group that splits the
 * job's partitions (`group`, see {@link RunJobGroupOptions} and docs/scale-out.md); needs
 * `sluice/nats`'s optional peers. Each partition it owns runs in a context of its own, with
 * `ctx.partition` set; `workers` must be 0 or absent.
 */
export interface RunJobInGroupOptions extends RunJobOptions {
  readonly group: RunJobGroupOptions;
}

/** What `sluice/nats` gives runJob for a group. */
interface GroupRunner {
  runJobGroup(definition: JobDefinition, overrides: JobOverrides, options: RunJobGroupOptions): Promise<JobGroupRun>;
}

/**
 * Loads the job module at `module` (its default export is a `defineJob` definition), creates its
 * context and starts it: with `workers` above 0, each worker thread imports the same module,
 * builds the same graph and runs the batches' tasks (a narrow chain's partition, a shuffle's map
 * or reduce side, a keyed state partition), while the driver (the calling thread) plans, reads,
 * commits and writes outputs. A job's results are the same with any number of workers. A
 * checkpointed job recovers from its checkpoint as with `start()`, whatever the worker count
 * of the run that wrote it. The worker threads end when the context stops.
 *
 * @param module - the job module: a `URL`, a `file:` URL string, or a path (from the current directory).
 * @returns the running context: `stop()` it, or await `awaitTermination()`.
 * @throws TypeError when the module's default export is not a job definition; RangeError for a bad
 * `workers`; SluiceError `WORKER_GRAPH_MISMATCH` when a worker built another graph than the driver
 * (or could not build one), `WORKER_FAILED` when a worker could not start (and, failing its
 * batch, when a task lost its worker `maxAttempts` times); what `create()` and `start()` throw.
 * With `group`, the process joins the group and runs the partitions it owns, each in a context of
 * its own, and resolves with the instance ({@link JobGroupRun}) once it has joined.
 *
 * @example const ctx = await runJob(new URL('./job.js', import.meta.url), { workers: 2 });
 * @example const run = await runJob('./job.js', { group: { name: 'orders', partitions: 12, memberId: 'host-1' } });
 */
export async function runJob(module: URL | string, options: RunJobInGroupOptions): Promise<JobGroupRun>;
export async function runJob(module: URL | string, options?: RunJobOptions): Promise<StreamingContext>;
export async function runJob(module: URL | string, options: RunJobOptions & { readonly group?: RunJobGroupOptions } = {}): Promise<StreamingContext | JobGroupRun> {
  if (options.group !== undefined) return runGroup(module, { ...options, group: options.group });
  const ctx = await createJobRun(module, options);
  try {
    await ctx.start();
  } catch (error) {
    // A context that could not start ends its workers too.
    await ctx.stop().catch(() => undefined);
    throw error;
  }
  return ctx;
}

/**
 * {@link runJob} without the start: the job's context, its workers started and checked, for a
 * runner that starts it its own way (`runToCompletion()`). The workers end when the context stops:
 * stop a context that will not be started, or its workers keep the process alive.
 *
 * @throws as {@link runJob}.
 */
export async function createJobRun(module: URL | string, options: RunJobOptions = {}): Promise<StreamingContext> {
  const url = urlOf(module);
  const definition = await importJob(url);
  if ((options as { group?: unknown }).group !== undefined) throw new TypeError('createJobRun: a group has no one context to create; use runJob(module, { group }).');
  const { workers: asked, speculation, maxAttempts, locality, ...overrides } = options;
  const workers = asked ?? Math.max(1, availableParallelism() - 1);
  if (!Number.isInteger(workers) || workers < 0) throw new RangeError(`runJob: workers must be a whole number of worker threads (0 runs inline), got ${workers}.`);
  if (workers === 0) return definition.create(overrides);
  const pool = new WorkerPool({
    size: workers,
    script: new URL('./worker-entry.js', import.meta.url),
    workerData: { module: url.href },
    // The workers inherit the process's Node options that a worker thread takes (the pool's default).
    ...(speculation === undefined ? {} : { speculation }),
    ...(maxAttempts === undefined ? {} : { maxAttempts }),
    ...(overrides.logger === undefined ? {} : { logger: overrides.logger.child({ component: 'sluice-workers' }) }),
  });
  try {
    const hellos = await pool.start();
    const defaultParallelism = overrides.defaultParallelism ?? definition.options.defaultParallelism ?? 4 * workers;
    const ctx = await definition.create({ ...overrides, defaultParallelism, executor: new PoolExecutor(pool, locality === undefined ? {} : { locality }) });
    checkWorkers(fullFingerprintOf(ctx.graph), hellos as WorkerHello[], url.href);
    const close = (): Promise<void> => pool.close();
    ctx.awaitTermination().then(close, close);
    return ctx;
  } catch (error) {
    await pool.close();
    throw error;
  }
}

async function runGroup(module: URL | string, options: RunJobInGroupOptions): Promise<JobGroupRun> {
  // speculation and maxAttempts are the worker pool's: a group runs no pool.
  const { workers, speculation: _speculation, maxAttempts: _maxAttempts, group, ...overrides } = options;
  if (workers !== undefined && workers !== 0) throw new RangeError(`runJob: a group runs each partition's tasks inline; give workers 0 or none with group, got ${workers}.`);
  const definition = await importJob(urlOf(module));
  // A variable specifier: the NATS client loads only here, and the core's types never see it.
  const specifier = 'sluice/nats';
  const nats = (await import(specifier)) as GroupRunner;
  return nats.runJobGroup(definition, overrides, group);
}

function urlOf(module: URL | string): URL {
  return typeof module === 'string' ? (module.startsWith('file:') ? new URL(module) : pathToFileURL(resolve(module))) : module;
}

async function importJob(url: URL): Promise<JobDefinition> {
  const imported = (await import(url.href)) as { default?: unknown };
  if (!isJobDefinition(imported.default)) {
    throw new TypeError(`runJob: the module ${url.href} must export a job by default: export default defineJob({ batchInterval: '1s' }, (ctx) => { ... }), with defineJob from 'sluice'.`);
  }
  return imported.default;
}

function checkWorkers(own: ReturnType<typeof fullFingerprintOf>, hellos: readonly WorkerHello[], module: string): void {
  hellos.forEach((hello, worker) => {
    const difference = 'error' in hello ? `it could not build the job: ${hello.error}` : fingerprintDifference(own, hello.fingerprint)?.replace('the first time', 'in the driver').replace('the second time', `in worker ${worker}`);
    if (difference === undefined) return;
    throw new SluiceError(
      'WORKER_GRAPH_MISMATCH',
      `Worker ${worker} built another graph than the driver from ${module} (${difference}). Every worker thread imports the job module and builds its graph again: the module must build the same graph every time, without side effects (no names from Math.random() or the clock, no state kept at its top level, nothing read from the driver's memory).`,
    );
  });
}
