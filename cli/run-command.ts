import type { StreamingContext } from 'sluice';
import { resolve } from 'node:path';
import { createJobRun, handleStopSignals, messageOf } from '../core/internal.js';
import { EXIT, type CliIo } from './cli-io.js';
import { createJobContext, loadJob } from './load-job.js';
import { runGroup, type RunGroupOptions } from './run-group.js';
import { showRunStatus } from './run-status.js';

/**
 * Options of `sluice run`: with `group`, the options of {@link RunGroupOptions} run this process as
 * one instance of that group (`runJob`'s `group`).
 */
export interface RunOptions extends Partial<RunGroupOptions> {
  readonly bounded?: boolean;
  /** Serve the job's monitor on this port (`serveMonitor`). */
  readonly monitor?: number;
  readonly monitorHost?: string;
  readonly monitorToken?: string;
  /** Worker threads that run the batches' tasks (`runJob`); absent or 0: inline. */
  readonly workers?: number;
}

/**
 * `sluice run <job module> [--bounded] [--workers <n>] [--group <name> --partitions <n> ...]`: builds the job the module exports and
 * runs it (its tasks on `n` worker threads that build the same graph, with `--workers`), streaming
 * until SIGINT or SIGTERM (a graceful stop: the batch in flight finishes and commits, and the data
 * the sources hold is processed; a second signal stops at once), or with `--bounded` over its
 * sources' data to their end (`runToCompletion`). With `--group`, the process runs as one instance
 * of a group that splits the job's partitions (`runGroup`).
 *
 * @returns the exit status: 0 when the job stopped cleanly, 1 when it failed.
 * @throws UsageError for a module that is missing or exports no job definition.
 */
export async function runJob(module: string, options: RunOptions, io: CliIo): Promise<number> {
  if (options.group !== undefined) {
    if (options.bounded === true || (options.workers ?? 0) > 0 || options.monitor !== undefined) {
      io.err('sluice run: --group runs without --bounded, --workers and --monitor (for now).');
      return EXIT.failed;
    }
    return runGroup(module, { ...options, group: options.group }, io);
  }
  const bounded = options.bounded === true;
  const cwd = io.cwd ?? process.cwd();
  const workers = options.workers ?? 0;
  let ctx: StreamingContext;
  if (workers === 0) ctx = await createJobContext(module, cwd);
  else {
    // The module is checked as a job first (a UsageError); its workers then load it again, and a
    // graph of theirs that differs fails with WORKER_GRAPH_MISMATCH.
    await loadJob(module, cwd);
    try {
      ctx = await createJobRun(resolve(cwd, module), { workers });
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      io.err(`sluice run: ${typeof code === 'string' ? `${code}: ` : ''}${messageOf(error)}`);
      return EXIT.failed;
    }
  }
  const monitor = options.monitor === undefined ? undefined : await startMonitor(ctx, options, io);
  if (monitor === null) {
    // Ends the workers, if any.
    await ctx.stop();
    return EXIT.failed;
  }
  const status = showRunStatus(ctx, io, bounded);
  if (monitor !== undefined) status.note(`sluice run: monitor at ${monitor.url} (metrics at ${monitor.url}metrics)`);
  const removeSignals = handleStopSignals(
    (signal) => {
      status.note(`sluice run: ${signal} received: stopping gracefully, after the batch in flight commits (send it again to stop at once)`);
      void ctx.stop({ graceful: true });
    },
    (signal) => {
      status.note(`sluice run: second ${signal}: stopping at once (a checkpointed job recovers on its next start)`);
    },
  );
  try {
    if (bounded) {
      const summary = await ctx.runToCompletion();
      status.note(`sluice run: ${summary.completed ? 'completed' : 'interrupted'}: ${summary.batches} batches, ${summary.records} records${summary.lastBatchId === undefined ? '' : `, last batch ${summary.lastBatchId}`}`);
    } else {
      await ctx.start();
      await ctx.awaitTermination();
    }
    return EXIT.ok;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    io.err(`sluice run: ${typeof code === 'string' ? `${code}: ` : ''}${messageOf(error)}`);
    return EXIT.failed;
  } finally {
    removeSignals();
    status.done();
    await monitor?.close();
  }
}

/**
 * Serves the job's monitor before it starts (it closes with the context). `sluice/monitor` and
 * its optional peers load only here, when asked for.
 *
 * @returns the monitor, or `null` when it could not start (the error is printed).
 */
async function startMonitor(ctx: StreamingContext, options: RunOptions, io: CliIo): Promise<{ readonly url: string; close(): Promise<void> } | null> {
  try {
    const { serveMonitor } = await import('sluice/monitor');
    const token = options.monitorToken ?? io.env?.SLUICE_MONITOR_TOKEN;
    return await serveMonitor(ctx, { port: options.monitor ?? 0, ...(options.monitorHost === undefined ? {} : { host: options.monitorHost }), ...(token === undefined || token === '' ? {} : { token }) });
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    io.err(`sluice run: the monitor could not start: ${typeof code === 'string' && /^[A-Z_]+$/.test(code) ? `${code}: ` : ''}${messageOf(error)}`);
    return null;
  }
}
