import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { seededRandom } from 'sluice/testing';

/*
 * A checkpointed job under runJob, killed with SIGKILL (the whole process, its worker threads
 * with it) while 2 workers run its tasks, restarted with 3 workers, then 1, killed each time, then
 * finished inline (each restart's workers start with empty state caches and get every key group's
 * rows and window partitions from the driver on first use): its idempotent file sinks must hold what a run that never crashed holds. The kill
 * delays come from a seed, printed when the test fails (SLUICE_CRASH_SEED replays it;
 * SLUICE_CRASH_VERBOSE=1 prints the kills).
 */

const SEED = Number(process.env.SLUICE_CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31));
const ROWS = 3000;
const RUNNER = resolve('test/core/parallel/fixtures/crash-run.mjs');
const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-parallel-crash-'));
  dirs.push(dir);
  return dir;
}

/** Runs the job on `workers` threads; with `killAfterMs`, SIGKILLs it that long after it printed `ready`. */
async function run(dir: string, workers: number, killAfterMs?: number): Promise<{ code: number | null; signal: string | null; stderr: string }> {
  const child = spawn(process.execPath, [RUNNER, String(workers)], { env: { ...process.env, SLUICE_CRASH_DIR: dir, SLUICE_CRASH_ROWS: String(ROWS) }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  if (killAfterMs !== undefined) {
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      if (chunk.includes('ready')) setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    });
  } else child.stdout.resume();
  const [code, signal] = (await once(child, 'close')) as [number | null, string | null];
  return { code, signal, stderr };
}

/** Every batch file of an output, by batch id. */
async function outputs(dir: string, sub: string): Promise<Map<string, unknown>> {
  const files = (await readdir(join(dir, 'out', sub))).filter((f) => f.startsWith('batch-'));
  return new Map(await Promise.all(files.map(async (f) => [f, JSON.parse(await readFile(join(dir, 'out', sub, f), 'utf8')) as unknown] as const)));
}

describe('runJob under SIGKILL', () => {
  it('restarted with other worker counts (2, then 3, then 1, then 0: workers start with empty caches, every key group restored) gives the outputs of a run that never crashed', async () => {
    const random = seededRandom(SEED);
    const note = `SLUICE_CRASH_SEED=${SEED}`;
    const clean = await tempDir();
    const uninterrupted = await run(clean, 0);
    expect(uninterrupted.code, `${note}\n${uninterrupted.stderr}`).toBe(0);

    const crashed = await tempDir();
    const kills: string[] = [];
    for (const workers of [2, 3, 1]) {
      const delay = 300 + Math.floor(random() * 900);
      const exit = await run(crashed, workers, delay);
      kills.push(`${workers} workers, killed after ${delay} ms: ${exit.signal ?? exit.code}`);
      expect(exit.signal === 'SIGKILL' || exit.code === 0, `${note}\n${kills.join('\n')}\n${exit.stderr}`).toBe(true);
    }
    if (process.env.SLUICE_CRASH_VERBOSE === '1') console.log(kills.join('\n'));
    const last = await run(crashed, 0);
    expect(last.code, `${note}\n${kills.join('\n')}\n${last.stderr}`).toBe(0);
    const log = `${note}\n${kills.join('\n')}`;
    // A run may end with batches that read nothing, depending on when its graceful stop came.
    const nonEmpty = (m: Map<string, unknown>): Map<string, unknown> => new Map([...m].filter(([, records]) => (records as unknown[]).length > 0));
    expect(nonEmpty(await outputs(crashed, 'counts')), log).toEqual(nonEmpty(await outputs(clean, 'counts')));
    const [want, got] = [await outputs(clean, 'totals'), await outputs(crashed, 'totals')];
    for (const [batch, totals] of want) if (got.has(batch)) expect(got.get(batch), `${log}\n${batch}`).toEqual(totals);
    expect(Math.min(got.size, want.size)).toBeGreaterThanOrEqual(ROWS / 20);
    // The incremental window, restored from the checkpoint and slid on the workers, at every slide both runs made.
    const [wantWindows, gotWindows] = [await outputs(clean, 'windows'), await outputs(crashed, 'windows')];
    let compared = 0;
    for (const [batch, sums] of wantWindows) {
      if (!gotWindows.has(batch)) continue;
      expect(gotWindows.get(batch), `${log}\n${batch}`).toEqual(sums);
      if ((sums as unknown[]).length > 0) compared++;
    }
    expect(compared).toBeGreaterThanOrEqual(ROWS / 20 / 2 - 5);
  }, 180_000);
});
