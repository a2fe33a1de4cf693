import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededRandom } from 'sluice/testing';

/*
 * Real crashes (STYLE.md, Tests): a child process runs a checkpointed stateful job
 * (fixtures/sigkill-job.mjs, on the built package) and is killed with SIGKILL at random moments,
 * restarted on the same checkpoint each time, then left to finish. Its file sinks must hold what
 * an uninterrupted run's hold. SLUICE_CRASH_KILLS sets the number of kills (default 20), and
 * SLUICE_CRASH_SEED replays a kill schedule (the seed is printed when the test fails);
 * SLUICE_CRASH_VERBOSE=1 prints the kill log when it passes too.
 */

const KILLS = Number(process.env.SLUICE_CRASH_KILLS ?? 20);
const SEED = Number(process.env.SLUICE_CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31));
const ROWS_PER_BATCH = 20; // the fixture's maxRecordsPerBatch
/** Enough rows that the kills land while there is data left (a restart catches up at a few ms a batch). */
const TOTAL = Math.max(2000, KILLS * 250);
const MIN_DELAY_MS = 30;
const MAX_DELAY_MS = 400;
const TIMEOUT_MS = Math.max(120_000, KILLS * 6_000);

const repo = fileURLToPath(new URL('../../', import.meta.url));
const job = fileURLToPath(new URL('./fixtures/sigkill-job.mjs', import.meta.url));


interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stderr: string;
}

/** The children still running, killed if the test ends early. */
const running = new Map<ChildProcess, Promise<Exit>>();

function startJob(checkpoint: string, out: string): { child: ChildProcess; exit: Promise<Exit> } {
  const child = spawn(process.execPath, [job, checkpoint, out, String(TOTAL)], { cwd: repo, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  // 'close' comes after the exit and the end of stderr.
  const exit = once(child, 'close').then(([code, signal]) => {
    running.delete(child);
    return { code: code as number | null, signal: signal as NodeJS.Signals | null, stderr };
  });
  running.set(child, exit);
  return { child, exit };
}

/** Runs the job to its end; fails when it exits otherwise than with 0. */
async function runToEnd(checkpoint: string, out: string): Promise<void> {
  const { child, exit } = startJob(checkpoint, out);
  const guard = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_MS / 2);
  try {
    const { code, signal, stderr } = await exit;
    if (code !== 0) throw new Error(`the job exited with ${code ?? signal} (${signal === 'SIGKILL' ? 'it did not finish in time' : 'it failed'}):\n${stderr}`);
  } finally {
    clearTimeout(guard);
  }
}

/** Kills the job KILLS times, each at a seeded random moment after its start, restarting it each time. */
async function killRepeatedly(checkpoint: string, out: string, next: () => number, log: string[]): Promise<void> {
  for (let k = 0; k < KILLS; k++) {
    const delay = Math.round(MIN_DELAY_MS + next() * (MAX_DELAY_MS - MIN_DELAY_MS));
    const { child, exit } = startJob(checkpoint, out);
    const timer = setTimeout(() => child.kill('SIGKILL'), delay);
    const { code, signal, stderr } = await exit;
    clearTimeout(timer);
    if (signal === 'SIGKILL') {
      const written = (await readdir(join(out, 'counts')).catch(() => [])).filter((name) => name.endsWith('.json')).length;
      log.push(`kill ${k}: at ${delay} ms, ${written} batch files written`);
      continue;
    }
    if (code !== 0) throw new Error(`restart ${k} exited with ${code ?? signal} instead of being killed:\n${stderr}`);
    log.push(`kill ${k}: the job finished before ${delay} ms`);
    return;
  }
}

/** The batch files of a sink directory, by batch id. */
async function batches<T>(dir: string): Promise<Map<number, T[]>> {
  const files = (await readdir(dir)).filter((name) => /^batch-\d+\.json$/.test(name));
  const out = new Map<number, T[]>();
  for (const name of files) out.set(Number(/\d+/.exec(name)![0]), JSON.parse(await readFile(join(dir, name), 'utf8')) as T[]);
  return new Map([...out].sort((a, b) => a[0] - b[0]));
}

/** The records of the batches that have any, by batch id. */
const nonEmpty = <T>(m: Map<number, T[]>): Map<number, T[]> => new Map([...m].filter(([, records]) => records.length > 0));

/** The totals of the last batch. */
const lastTotals = (m: Map<number, [string, number][]>): Map<string, number> => new Map([...m].at(-1)?.[1] ?? []);

type Count = [key: string, count: number, index: number];

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'sluice-sigkill-'));
  // The child runs compiled JavaScript: test/global-setup.ts has built dist/.
}, 100_000);
afterAll(async () => {
  for (const child of running.keys()) child.kill('SIGKILL');
  await Promise.all(running.values());
  await rm(root, { recursive: true, force: true });
});

describe('exactly-once across real crashes (SIGKILL)', () => {
  it.skipIf(process.platform === 'win32')(
    `a job killed with SIGKILL ${KILLS} times at random moments and restarted on its checkpoint ends with the sinks and totals of an uninterrupted run`,
    async () => {
      const log: string[] = [];
      try {
        await Promise.all([
          runToEnd(join(root, 'straight-ckpt'), join(root, 'straight')),
          (async () => {
            await killRepeatedly(join(root, 'crashed-ckpt'), join(root, 'crashed'), seededRandom(SEED), log);
            await runToEnd(join(root, 'crashed-ckpt'), join(root, 'crashed'));
          })(),
        ]);
        const dataBatches = TOTAL / ROWS_PER_BATCH;
        const straight = await batches<Count>(join(root, 'straight', 'counts'));
        const crashed = await batches<Count>(join(root, 'crashed', 'counts'));

        // No batch missing, none with other records: batch k holds rows 20k .. 20k + 19 in both runs.
        expect([...nonEmpty(straight).keys()]).toEqual(Array.from({ length: dataBatches }, (_, i) => i));
        expect([...nonEmpty(crashed).keys()]).toEqual([...nonEmpty(straight).keys()]);
        for (const [id, expected] of nonEmpty(straight)) expect(crashed.get(id), `batch ${id}`).toEqual(expected);
        // Batches after the data (a restart of a drained job runs one before it stops) are empty.
        expect([...crashed].filter(([id, records]) => id >= dataBatches && records.length > 0)).toEqual([]);

        // Every record once, and every key's running counts exactly 1..n: no state update lost or doubled.
        const records = [...crashed.values()].flat();
        expect(records.map(([, , i]) => i).sort((a, b) => a - b)).toEqual(Array.from({ length: TOTAL }, (_, i) => i));
        const countsByKey = new Map<string, number[]>();
        for (const [key, n] of records) {
          const counts = countsByKey.get(key) ?? [];
          counts.push(n);
          countsByKey.set(key, counts);
        }
        for (const [key, counts] of countsByKey) {
          expect(counts.sort((a, b) => a - b), key).toEqual(Array.from({ length: counts.length }, (_, i) => i + 1));
        }

        const totals = lastTotals(await batches<[string, number]>(join(root, 'crashed', 'totals')));
        expect(totals).toEqual(lastTotals(await batches<[string, number]>(join(root, 'straight', 'totals'))));
        expect(totals).toEqual(new Map([...countsByKey].map(([key, counts]) => [key, counts.length])));
        if (process.env.SLUICE_CRASH_VERBOSE !== undefined) console.log(`kill seed ${SEED}\n${log.join('\n')}`);
      } catch (error) {
        console.error(`sigkill test failed with kill seed ${SEED} (replay: SLUICE_CRASH_SEED=${SEED} SLUICE_CRASH_KILLS=${KILLS})\n${log.join('\n')}`);
        throw error;
      }
    },
    TIMEOUT_MS,
  );
});
