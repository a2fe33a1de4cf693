import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import type { BatchProgress } from 'sluice';

const run = promisify(execFile);
const RUNNER = resolve('test/core/parallel/fixtures/run-fixture.mjs');

/** How a run executes its tasks: inline (`inline:P`: with a default parallelism of P), through the SerializingExecutor, or on `n` worker threads. */
export type Mode = 'inline' | `inline:${number}` | 'serializing' | number;

/** What a run of a fixture job gave: its outputs, its batches' progress, and its failure if it failed. */
export interface JobRun {
  readonly mode: string;
  readonly collected: unknown[];
  readonly progress: BatchProgress[];
  readonly failure?: { readonly code?: string; readonly message: string };
}

/** The URL of a fixture job module, with `params` in its query (the module reads them). */
export function fixtureUrl(name: string, params: Record<string, string> = {}): URL {
  const url = pathToFileURL(resolve('test/core/parallel/fixtures', name));
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  return url;
}

/**
 * Runs a fixture job to completion in each of `modes`, in a child process over the compiled
 * package (dist/), as a user's program and the worker threads load it.
 */
export async function runFixture(url: URL, modes: readonly Mode[]): Promise<JobRun[]> {
  const { stdout } = await run(process.execPath, [RUNNER, url.href, ...modes.map(String)], { maxBuffer: 64 * 1024 * 1024 });
  return stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as JobRun);
}
