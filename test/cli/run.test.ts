import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixture, sluice, startSluice } from './cli-harness.js';
import { useTempDirs } from '../support/temp-dir.js';

const tempDir = useTempDirs('sluice-cli-');
const repo = fileURLToPath(new URL('../../', import.meta.url));

/** Every record the file sink wrote, in file (batch) order. */
async function outputs(dir: string, sink = 'out'): Promise<unknown[]> {
  const files = (await readdir(join(dir, sink))).filter((name) => name.startsWith('batch-')).sort();
  const lines = await Promise.all(files.map(async (name) => (await readFile(join(dir, sink, name), 'utf8')).split('\n').filter((l) => l !== '')));
  return lines.flat().map((line) => JSON.parse(line) as unknown);
}

/** Runs the counting job streaming, SIGINTs it after `batches` progress lines, and returns its exit. */
async function runInterrupted(dir: string, batches: number) {
  const job = startSluice(['run', fixture('counting-job.mjs')], { SLUICE_TEST_DIR: dir });
  await new Promise<void>((resolve) => {
    let seen = 0;
    job.onLine((line) => {
      if (line.startsWith('batch ') && ++seen === batches) resolve();
    });
    void job.exit.then(() => { resolve(); });
  });
  job.child.kill('SIGINT');
  return job.exit;
}

interface Inspection {
  readonly lastCommitted: { readonly batchId: number } | null;
  readonly pending: readonly number[];
  readonly sources: readonly { readonly name: string; readonly offset: { readonly rows: number } }[];
}

describe('sluice run', () => {
  it('stops gracefully on SIGINT (exit 0): the last batch committed once, every record written once, as an uninterrupted run; a second run resumes after it', async () => {
    const dir = await tempDir();
    const first = await runInterrupted(dir, 5);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain('sluice run: SIGINT received: stopping gracefully, after the batch in flight commits (send it again to stop at once)');
    expect(first.stdout.at(-1)).toBe('sluice run: stopped');
    const lastLine = first.stdout.filter((line) => line.startsWith('batch ')).at(-1) ?? '';
    const lastBatch = Number(/^batch (\d+) \| (\d+) records, \d+\/s \| processing \d+ ms of 100 ms \| delay \d+ ms \| watermark none$/.exec(lastLine)?.[1]);

    const inspected = await sluice(['inspect', join(dir, 'ckpt'), '--json']);
    expect(inspected.code, inspected.stderr).toBe(0);
    const info = JSON.parse(inspected.out) as Inspection;
    expect(info.lastCommitted?.batchId).toBe(lastBatch);
    expect(info.pending).toEqual([]);
    const rows = info.sources[0]?.offset.rows ?? 0;
    expect(rows).toBeGreaterThan(0);
    // Every record up to the committed offset, once, in order: no batch written twice, none lost.
    expect(await outputs(dir)).toEqual(Array.from({ length: rows }, (_, i) => i));

    // The same records through an uninterrupted (bounded) run give the same state and outputs.
    const other = await tempDir();
    const bounded = await sluice(['run', fixture('counting-job.mjs'), '--bounded'], { SLUICE_TEST_DIR: other, SLUICE_TEST_ROWS: String(rows) });
    expect(bounded.code, bounded.stderr).toBe(0);
    expect(bounded.stdout.at(-1)).toMatch(new RegExp(`^sluice run: completed: \\d+ batches, ${rows} records, last batch \\d+$`));
    expect(await outputs(other)).toEqual(await outputs(dir));
    const stateOf = async (d: string): Promise<unknown> => JSON.parse((await sluice(['state', join(d, 'ckpt'), 'counts', '--json'])).out) as { entries: unknown };
    expect(((await stateOf(other)) as { entries: unknown }).entries).toEqual(((await stateOf(dir)) as { entries: unknown }).entries);
    expect(((await stateOf(dir)) as { entries: unknown }).entries).toEqual(['k0', 'k1', 'k2'].map((key, k) => ({ key, value: Math.ceil((rows - k) / 3) })));

    // Run again on the checkpoint: it goes on after the committed batch, still exactly once.
    const second = await runInterrupted(dir, 3);
    expect(second.code, second.stderr).toBe(0);
    expect(Number(/^batch (\d+)/.exec(second.stdout.find((line) => line.startsWith('batch ')) ?? '')?.[1])).toBe(lastBatch + 1);
    const resumed = JSON.parse((await sluice(['inspect', join(dir, 'ckpt'), '--json'])).out) as Inspection;
    expect(await outputs(dir)).toEqual(Array.from({ length: resumed.sources[0]?.offset.rows ?? 0 }, (_, i) => i));
  });

  it('lets the batch in flight at a SIGINT finish and commit; a second SIGINT ends the process at once, and the next run recovers exactly once', async () => {
    const dir = await tempDir();
    const inFlight = async (slow: number, signals: number) => {
      const job = startSluice(['run', fixture('counting-job.mjs')], { SLUICE_TEST_DIR: dir, SLUICE_TEST_SLOW_BATCH: String(slow) });
      const seen = (text: string): Promise<void> =>
        new Promise<void>((resolve) => {
          job.onLine((line) => {
            if (line.startsWith(text)) resolve();
          });
          void job.exit.then(() => { resolve(); });
        });
      await seen(`slow batch ${slow} started`);
      job.child.kill('SIGINT');
      // Signals do not queue: send the second once the first has been handled.
      if (signals === 2) {
        await seen('sluice run: SIGINT received');
        job.child.kill('SIGINT');
      }
      return job.exit;
    };
    const graceful = await inFlight(3, 1);
    expect(graceful.code, graceful.stderr).toBe(0);
    // The batch in flight finished and committed before the context stopped.
    const done = graceful.stdout.indexOf('slow batch 3 done');
    expect(done).toBeGreaterThan(graceful.stdout.findIndex((line) => line.startsWith('sluice run: SIGINT received')));
    expect(graceful.stdout.slice(done)).toContainEqual(expect.stringMatching(/^batch 3 \|/));
    const after = JSON.parse((await sluice(['inspect', join(dir, 'ckpt'), '--json'])).out) as Inspection;
    expect(after.lastCommitted?.batchId).toBeGreaterThanOrEqual(3);
    expect(after.pending).toEqual([]);

    // A second SIGINT during a slow batch: the process ends by the signal, the batch uncommitted.
    const slow = (after.lastCommitted?.batchId ?? 0) + 3;
    const killed = await inFlight(slow, 2);
    expect(killed.signal).toBe('SIGINT');
    expect(killed.stdout).not.toContain(`slow batch ${slow} done`);
    const pending = JSON.parse((await sluice(['inspect', join(dir, 'ckpt'), '--json'])).out) as Inspection;
    expect(pending.pending).toEqual([slow]);
    // The next run replays it: still every record once.
    const resumed = await runInterrupted(dir, 2);
    expect(resumed.code, resumed.stderr).toBe(0);
    const info = JSON.parse((await sluice(['inspect', join(dir, 'ckpt'), '--json'])).out) as Inspection;
    expect(info.lastCommitted?.batchId).toBeGreaterThan(slow);
    expect(await outputs(dir)).toEqual(Array.from({ length: info.sources[0]?.offset.rows ?? 0 }, (_, i) => i));
  });

  it.skipIf(spawnSync('script', ['--version']).status !== 0)('redraws one status line on a terminal (a pseudo-terminal from script(1))', async () => {
    const dir = await tempDir();
    const command = `stty rows 24 cols 250; ${process.execPath} dist/cli/main.js run ${fixture('counting-job.mjs')} --bounded`;
    const child = spawn('script', ['-qfc', command, '/dev/null'], { cwd: repo, env: { ...process.env, SLUICE_TEST_DIR: dir, SLUICE_TEST_ROWS: '30000' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
    const [code] = (await once(child, 'close')) as [number];
    expect(code).toBe(0);
    // Batch 0 written, then each next batch erases the line before it (ESC[2K ESC[1A: clear, up).
    expect(text).toMatch(/batch 0 \| 10000 records/);
    const erase = '\u001b[2K\u001b[1A\u001b[2K\u001b[G';
    expect(text).toContain(`${erase}batch 1 | 10000 records`);
    expect(text).toContain(`${erase}batch 2 | 10000 records`);
    expect(text).toMatch(/sluice run: completed: 3 batches, 30000 records, last batch 2\r?\n$/);
  });

  it('refuses with JOB_NOT_DETERMINISTIC (exit 1) a module that names an operator at random, in its build function or at its top level', async () => {
    const inBuild = await sluice(['run', fixture('random-name-job.mjs')]);
    expect(inBuild.code).toBe(1);
    expect(inBuild.stderr).toMatch(/^sluice run: JOB_NOT_DETERMINISTIC: The job built a different graph when it was built again \(node 1: 'values-\w+' \(map\) from \[0\] the first time, 'values-\w+' \(map\) from \[0\] the second time\)\. .*Math\.random\(\)/);
    const atTop = await sluice(['run', fixture('module-random-job.mjs')]);
    expect(atTop.code).toBe(1);
    expect(atTop.stderr).toMatch(/^sluice run: JOB_NOT_DETERMINISTIC: The job module .*module-random-job\.mjs defined a different graph when it was loaded again \(node 0: 'rate-\w+' \(rate\) from \[\] reading source 'rate-\w+' \(rate\) the first load, 'rate-\w+' .* the second load\)\. Its top level must not draw names at random/);
    expect(atTop.stdout).toEqual([]);
  });

  it('exits 2 saying what to export for a module without a job, and for a missing module', async () => {
    const notJob = await sluice(['run', fixture('not-a-job.mjs')]);
    expect(notJob.code).toBe(2);
    expect(notJob.stderr).toBe(
      "sluice run: the job module test/cli/fixtures/not-a-job.mjs exports by default a StreamingContext; it must export default defineJob({ batchInterval: '1s', ... }, (ctx) => { /* sources, operators, outputs */ }), with defineJob from 'sluice'.\n(see sluice run --help)\n",
    );
    const missing = await sluice(['run', 'jobs/none.mjs']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^sluice run: the job module jobs\/none\.mjs does not exist \(resolved to .*jobs\/none\.mjs\); give the path of a JavaScript module that does export default defineJob/);
  });

  it('runs the tasks on worker threads with --workers, with the outputs and state of the inline run; refuses a bad count (exit 2)', async () => {
    const inline = await tempDir();
    const parallel = await tempDir();
    const env = { SLUICE_TEST_ROWS: '600' };
    const one = await sluice(['run', fixture('counting-job.mjs'), '--bounded'], { ...env, SLUICE_TEST_DIR: inline });
    expect(one.code, one.stderr).toBe(0);
    const two = await sluice(['run', fixture('counting-job.mjs'), '--bounded', '--workers', '2'], { ...env, SLUICE_TEST_DIR: parallel });
    expect(two.code, two.stderr).toBe(0);
    expect(two.stdout.at(-1)).toBe(one.stdout.at(-1));
    expect(await outputs(parallel)).toEqual(await outputs(inline));
    // Keyed output is ordered by partition, and --workers 2 gives 8 partitions where the job sets none.
    const sorted = (records: unknown[]): string[] => records.map((r) => JSON.stringify(r)).sort();
    expect(sorted(await outputs(parallel, 'counts'))).toEqual(sorted(await outputs(inline, 'counts')));
    const bad = await sluice(['run', fixture('counting-job.mjs'), '--workers', 'two']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/give a whole number of worker threads, such as 3 \(0 runs on the one thread; got 'two'\)/);
  }, 60_000);
});
