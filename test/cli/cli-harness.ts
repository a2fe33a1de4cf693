import { main } from '../../cli/program.js';
import { startChildJob, type ChildExit, type ChildJob } from '../support/child-job.js';

/** What a `sluice` command printed, and its exit status. */
export interface CliResult {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

/** Runs `sluice ...argv` in this process (the same `main` as the bin), capturing its output. */
export async function cli(argv: readonly string[], env: Readonly<Record<string, string>> = {}): Promise<CliResult> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (line) => out.push(line), err: (line) => err.push(line), env });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/** Starts the built bin, `node dist/cli/main.js ...argv`, in a child process. */
export function startSluice(argv: readonly string[], env: Readonly<Record<string, string>> = {}): ChildJob {
  return startChildJob('dist/cli/main.js', argv, env);
}

/** Runs the built bin to its end. */
export async function sluice(argv: readonly string[], env: Readonly<Record<string, string>> = {}): Promise<ChildExit & { readonly out: string }> {
  const exit = await startSluice(argv, env).exit;
  return { ...exit, out: exit.stdout.join('\n').trimEnd() };
}

/** A fixture job module of test/cli/fixtures, by file name (relative to the repository, where children run). */
export const fixture = (name: string): string => `test/cli/fixtures/${name}`;
