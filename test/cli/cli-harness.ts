import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { foreachBatch, keyBy, ManualClock, mapToPair, StreamingContext } from 'sluice';
import { levelCheckpoint } from 'sluice/checkpoint';
import { mapWithState, stateSpec, updateStateByKey, type State } from 'sluice/state';
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

/**
 * A checkpointed job on a manual clock: 4 records a batch (record i is the number i), counted per
 * string key `user-<i % 3>` (updateStateByKey 'counts'), and the last record per array key
 * `['card', i % 2]` (mapWithState 'cards').
 */
export function countingContext(path: string, clock: ManualClock): StreamingContext {
  const ctx = new StreamingContext({ batchInterval: 1000, clock, checkpoint: levelCheckpoint(path) });
  const input = ctx.rateStream({ name: 'rate', rowsPerSecond: 1000, startTime: 0, maxRecordsPerBatch: 4, generate: (i) => i });
  input.pipe(
    mapToPair((i: number) => [`user-${i % 3}`, 1]),
    updateStateByKey((ones: number[], n: number | undefined) => (n ?? 0) + ones.length, { name: 'counts' }),
    foreachBatch(() => undefined),
  );
  const last = stateSpec((_key: unknown, i: number | undefined, state: State<number>) => {
    if (i !== undefined) state.update(i);
  });
  input.pipe(keyBy((i: number) => ['card', i % 2]), mapWithState(last.name('cards')), foreachBatch(() => undefined));
  return ctx;
}

/** Runs {@link countingContext} for `batches` batches and stops it. */
export async function makeCheckpoint(path: string, batches: number): Promise<void> {
  const clock = new ManualClock();
  const ctx = countingContext(path, clock);
  await ctx.start();
  await clock.advance(batches * 1000);
  await ctx.stop();
}

/** A stand-in for a job's monitor: answers GETs with `answer(path)` and writes the discovery file. */
export async function standInMonitor(checkpoint: string, token: string | undefined, answer: (url: URL) => Promise<unknown>): Promise<{ readonly requests: string[]; close(): Promise<void> }> {
  const requests: string[] = [];
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    requests.push(url.pathname + url.search);
    if (token !== undefined && request.headers.authorization !== `Bearer ${token}`) {
      response.writeHead(401).end('{"error":"a bearer token is required"}');
      return;
    }
    answer(url).then(
      (body) => response.writeHead(200, { 'content-type': 'application/json' }).end(typeof body === 'string' ? body : JSON.stringify(body)),
      (error: unknown) => response.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: error instanceof Error ? error.message : String(error) })),
    );
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await writeFile(join(checkpoint, 'sluice-monitor.json'), JSON.stringify({ url: `http://127.0.0.1:${port}`, pid: process.pid, token: token !== undefined }));
  return {
    requests,
    close: async () => {
      server.close();
      await once(server, 'close');
    },
  };
}

/** A local port nothing listens on (a server's, closed). */
export async function closedPort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}
