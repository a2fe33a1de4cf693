import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isJobDefinition, SluiceError, type JobDefinition, type JobOverrides, type StreamingContext } from 'sluice';
import { fingerprintDifference, fullFingerprintOf } from '../core/internal.js';
import { UsageError } from './cli-io.js';

const WHAT_TO_EXPORT = "export default defineJob({ batchInterval: '1s', ... }, (ctx) => { /* sources, operators, outputs */ }), with defineJob from 'sluice'";

/**
 * Imports a job module: its default export must be a job definition.
 *
 * @param instance - loads a fresh instance of the module (its top level runs again) when given.
 * @throws UsageError when the file does not exist or its default export is not a job definition.
 */
export async function loadJob(path: string, cwd: string, instance?: string): Promise<JobDefinition> {
  const file = resolve(cwd, path);
  const found = await stat(file).then(
    (s) => s.isFile(),
    () => false,
  );
  if (!found) throw new UsageError(`the job module ${path} does not exist (resolved to ${file}); give the path of a JavaScript module that does ${WHAT_TO_EXPORT}.`);
  const url = pathToFileURL(file);
  if (instance !== undefined) url.searchParams.set('sluice-instance', instance);
  const module = (await import(url.href)) as { default?: unknown };
  if (!isJobDefinition(module.default)) {
    const got = module.default === undefined ? 'has no default export' : `exports by default ${describe(module.default)}`;
    throw new UsageError(`the job module ${path} ${got}; it must ${WHAT_TO_EXPORT}.`);
  }
  return module.default;
}

/**
 * Loads the job module and creates its context (not started), after checking that the module
 * defines the same graph when built again and when loaded again (a fresh instance, whose top
 * level runs again: a name drawn at random there differs).
 *
 * @throws UsageError as {@link loadJob}; SluiceError `JOB_NOT_DETERMINISTIC`.
 */
export async function createJobContext(path: string, cwd: string, overrides: JobOverrides = {}): Promise<StreamingContext> {
  const job = await loadJob(path, cwd);
  const ctx = await job.create(overrides);
  const again = await (await loadJob(path, cwd, 'again')).create(overrides);
  const difference = fingerprintDifference(fullFingerprintOf(ctx.graph), fullFingerprintOf(again.graph));
  if (difference !== undefined) {
    throw new SluiceError(
      'JOB_NOT_DETERMINISTIC',
      `The job module ${path} defined a different graph when it was loaded again (${difference.replace('the first time', 'the first load').replace('the second time', 'the second load')}). Its top level must not draw names at random or from the clock, nor keep state its build function reads: compute everything the graph depends on inside the build function, from the options and the environment.`,
    );
  }
  return ctx;
}

function describe(value: unknown): string {
  if (typeof value === 'function') return `a function${value.name === '' ? '' : ` (${value.name})`}`;
  if (typeof value === 'object' && value !== null) return value.constructor?.name === 'StreamingContext' ? 'a StreamingContext' : 'an object that is not a job definition';
  return `${typeof value} ${String(value)}`;
}
