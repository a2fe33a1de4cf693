import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededRandom } from 'sluice/testing';

/*
 * Real crashes (STYLE.md, Tests): a child process runs a checkpointed stateful job
 * (fixtures/sigkill-job.mjs, on the built package) and is killed with SIGKILL at random moments,
 * restarted on the same checkpoint each time, then left to finish. Its file sinks must hold what
 * an uninterrupted run's hold. The job reads a rate source, or a directory the test writes files
 * into while it runs, or the rate source in a bounded run (runToCompletion). SLUICE_CRASH_KILLS
 * sets the number of kills of the rate job (default 20; the directory and bounded jobs get half, the
 * kills at the pipelined commit's crash point a quarter), and SLUICE_CRASH_SEED replays a kill schedule (the seed is
 * printed when the test fails); SLUICE_CRASH_VERBOSE=1 prints the kill log when it passes too.
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

/** The fixture's arguments after the checkpoint and output directories: what it reads. */
type Input = readonly string[];
const RATE: Input = ['rate', String(TOTAL)];

/** Starts the job; `onLine` hears its stdout lines. */
function startJob(checkpoint: string, out: string, input: Input, ...onLine: ((line: string) => void)[]): { child: ChildProcess; exit: Promise<Exit> } {
  return spawnJob(checkpoint, out, input, process.env, onLine);
}

/** Starts the job with `env`; `onLine` hears its stdout lines. */
function spawnJob(checkpoint: string, out: string, input: Input, env: NodeJS.ProcessEnv, onLine: readonly ((line: string) => void)[]): { child: ChildProcess; exit: Promise<Exit> } {
  const child = spawn(process.execPath, [job, checkpoint, out, ...input], { cwd: repo, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let partial = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) for (const listener of onLine) listener(line);
  });
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
async function runToEnd(checkpoint: string, out: string, input: Input = RATE, onLine: (line: string) => void = () => undefined): Promise<void> {
  const { child, exit } = startJob(checkpoint, out, input, onLine);
  const guard = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_MS / 2);
  try {
    const { code, signal, stderr } = await exit;
    if (code !== 0) throw new Error(`the job exited with ${code ?? signal} (${signal === 'SIGKILL' ? 'it did not finish in time' : 'it failed'}):\n${stderr}`);
  } finally {
    clearTimeout(guard);
  }
}

/**
 * Kills the job `kills` times, each at a seeded random moment after it is ready to start (its
 * modules loaded, which alone takes longer than the delays: counted from the spawn, every kill
 * would land before the checkpoint opens), restarting it each time.
 */
async function killRepeatedly(checkpoint: string, out: string, next: () => number, log: string[], kills = KILLS, input: Input = RATE, onLine: (line: string) => void = () => undefined): Promise<void> {
  for (let k = 0; k < kills; k++) {
    const delay = Math.round(MIN_DELAY_MS + next() * (MAX_DELAY_MS - MIN_DELAY_MS));
    let timer: NodeJS.Timeout | undefined;
    const { child, exit } = startJob(checkpoint, out, input, onLine, (line) => {
      if (line === 'ready') timer = setTimeout(() => child.kill('SIGKILL'), delay);
    });
    const { code, signal, stderr } = await exit;
    clearTimeout(timer);
    if (signal === 'SIGKILL') {
      const written = (await readdir(join(out, 'counts')).catch(() => [])).filter((name) => name.endsWith('.json')).length;
      log.push(`kill ${k}: ${delay} ms after it was ready, ${written} batch files written`);
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

/** A dead letter as the fixture writes it: [record index, operator, message]. */
type DeadLetterRow = readonly [number, string, string];

/** Every record whose index is 5 modulo 17 (the fixture's map throws on those) is dead-lettered exactly once, by operator 'checked'. */
function expectEachRejectedOnce(dead: Map<number, DeadLetterRow[]>, total: number): void {
  const rows = [...dead.values()].flat();
  expect(rows.map(([i]) => i).sort((a, b) => a - b)).toEqual(Array.from({ length: total }, (_, i) => i).filter((i) => i % 17 === 5));
  for (const [i, operator, message] of rows) {
    expect(operator).toBe('checked');
    expect(message).toContain(`record ${i} is not wanted`);
  }
}

/** The totals of the last batch. */
const lastTotals = (m: Map<number, [string, number][]>): Map<string, number> => new Map([...m].at(-1)?.[1] ?? []);

type Count = [key: string, count: number, index: number];

/** Every check that a crashed run's records are those of the uninterrupted run, each once, with no state update lost or doubled. */
function expectSameRecords(crashed: Map<number, Count[]>, straight: Map<number, Count[]>, total: number): Map<string, number[]> {
  const records = [...crashed.values()].flat();
  const byIndex = (a: Count, b: Count): number => a[2] - b[2];
  expect(records.map(([, , i]) => i).sort((a, b) => a - b)).toEqual(Array.from({ length: total }, (_, i) => i));
  expect([...records].sort(byIndex)).toEqual([...straight.values()].flat().sort(byIndex));
  const countsByKey = new Map<string, number[]>();
  for (const [key, n] of records) {
    const counts = countsByKey.get(key) ?? [];
    counts.push(n);
    countsByKey.set(key, counts);
  }
  for (const [key, counts] of countsByKey) {
    expect(counts.sort((a, b) => a - b), key).toEqual(Array.from({ length: counts.length }, (_, i) => i + 1));
  }
  return countsByKey;
}

/*
 * The directory job's input: EARLY files written before it starts (b-000 ...), RUNNING more
 * written while it runs, each once the job has read all but a few of the files before it, then a
 * late file, a-late, once it has read all of those: its name sorts before every file already
 * taken. Rows are numbered in that order, which is the order the files are taken in, so each
 * record's running count is the same in every run, however its batches are cut.
 */
const EARLY = 8;
const RUNNING = 8;
const FILES = EARLY + RUNNING + 1;
const ROWS_PER_FILE = 100;
const DIRECTORY_TOTAL = FILES * ROWS_PER_FILE;
const DIRECTORY_KILLS = Math.max(1, Math.floor(KILLS / 2));
const BOUNDED_KILLS = Math.max(1, Math.floor(KILLS / 2));
/** Kills at the pipelined commit's crash point, each at a later batch (the rate job has TOTAL / 20 of them). */
const IN_FLIGHT_KILLS = Math.max(2, Math.floor(KILLS / 4));

/** Writes file `n` of the input (rows n * ROWS_PER_FILE ...) into `dir` under a temporary name, then renames it into place. */
async function writeInputFile(dir: string, n: number): Promise<void> {
  const name = n === FILES - 1 ? 'a-late.ndjson' : `b-${String(n).padStart(3, '0')}.ndjson`;
  const rows = Array.from({ length: ROWS_PER_FILE }, (_, r) => n * ROWS_PER_FILE + r);
  await writeFile(join(dir, `.${name}.tmp`), rows.map((i) => `${JSON.stringify({ i, key: `k${(i * 31) % 7}` })}\n`).join(''));
  await rename(join(dir, `.${name}.tmp`), join(dir, name));
}

/**
 * Feeds the input directory as the job reads it: `onLine` takes the job's stdout lines
 * (`progress <files read wholly>`, from whichever run is up); `done` resolves once every file is written.
 */
function feedDirectory(dir: string): { onLine: (line: string) => void; done: Promise<void> } {
  let read = 0;
  let wake: (() => void) | undefined;
  const onLine = (line: string): void => {
    const progress = /^progress (\d+)$/.exec(line);
    if (progress === null) return;
    read = Math.max(read, Number(progress[1]));
    wake?.();
  };
  const reached = async (files: number): Promise<void> => {
    while (read < files) await new Promise<void>((resolve) => (wake = resolve));
  };
  const done = (async () => {
    await mkdir(dir, { recursive: true });
    for (let n = 0; n < EARLY; n++) await writeInputFile(dir, n);
    for (let n = EARLY; n < EARLY + RUNNING; n++) {
      await reached(n - 3);
      await writeInputFile(dir, n);
    }
    await reached(EARLY + RUNNING);
    await writeInputFile(dir, FILES - 1);
  })();
  return { onLine, done };
}

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
        const countsByKey = expectSameRecords(crashed, straight, TOTAL);

        const totals = lastTotals(await batches<[string, number]>(join(root, 'crashed', 'totals')));
        expect(totals).toEqual(lastTotals(await batches<[string, number]>(join(root, 'straight', 'totals'))));
        expect(totals).toEqual(new Map([...countsByKey].map(([key, counts]) => [key, counts.length])));

        // onError: 'deadLetter' across the kills: the same dead letters in the same batches, each record once.
        const dead = await batches<DeadLetterRow>(join(root, 'crashed', 'dead'));
        expect(nonEmpty(dead)).toEqual(nonEmpty(await batches<DeadLetterRow>(join(root, 'straight', 'dead'))));
        expectEachRejectedOnce(dead, TOTAL);
        if (process.env.SLUICE_CRASH_VERBOSE !== undefined) console.log(`kill seed ${SEED}\n${log.join('\n')}`);
      } catch (error) {
        console.error(`sigkill test failed with kill seed ${SEED} (replay: SLUICE_CRASH_SEED=${SEED} SLUICE_CRASH_KILLS=${KILLS})\n${log.join('\n')}`);
        throw error;
      }
    },
    TIMEOUT_MS,
  );
  it.skipIf(process.platform === 'win32')(
    `a job killed with SIGKILL ${IN_FLIGHT_KILLS} times while a batch's atomic write was in flight and the next batch computed (the pipelined commit), the write gone through or not, ends with the sinks and totals of an uninterrupted run`,
    async () => {
      const log: string[] = [];
      try {
        const next = seededRandom(SEED + 3);
        await Promise.all([
          runToEnd(join(root, 'in-flight-straight-ckpt'), join(root, 'in-flight-straight')),
          (async () => {
            let batch = 0;
            for (let k = 0; k < IN_FLIGHT_KILLS; k++) {
              batch += 2 + Math.floor(next() * 12);
              const mode = next() < 0.5 ? 'written' : 'held';
              const lines: string[] = [];
              const { exit } = spawnJob(join(root, 'in-flight-crashed-ckpt'), join(root, 'in-flight-crashed'), RATE, { ...process.env, SLUICE_KILL_IN_FLIGHT: `${batch}:${mode}` }, [(line) => void lines.push(line)]);
              const { code, signal, stderr } = await exit;
              const point = lines.find((line) => line.startsWith('in-flight'));
              log.push(`kill ${k}: batch ${batch} ${mode}: ${signal ?? code} (${point ?? 'no crash point reached'})`);
              if (signal !== 'SIGKILL') throw new Error(`the job was to kill itself at batch ${batch}, but exited with ${code ?? signal}:\n${stderr}`);
              expect(point).toBe(`in-flight ${batch} computed`);
            }
            await runToEnd(join(root, 'in-flight-crashed-ckpt'), join(root, 'in-flight-crashed'));
          })(),
        ]);
        const straight = await batches<Count>(join(root, 'in-flight-straight', 'counts'));
        const crashed = await batches<Count>(join(root, 'in-flight-crashed', 'counts'));
        expect([...nonEmpty(crashed).keys()]).toEqual([...nonEmpty(straight).keys()]);
        for (const [id, expected] of nonEmpty(straight)) expect(crashed.get(id), `batch ${id}`).toEqual(expected);
        const countsByKey = expectSameRecords(crashed, straight, TOTAL);
        const totals = lastTotals(await batches<[string, number]>(join(root, 'in-flight-crashed', 'totals')));
        expect(totals).toEqual(lastTotals(await batches<[string, number]>(join(root, 'in-flight-straight', 'totals'))));
        expect(totals).toEqual(new Map([...countsByKey].map(([key, counts]) => [key, counts.length])));
        expectEachRejectedOnce(await batches<DeadLetterRow>(join(root, 'in-flight-crashed', 'dead')), TOTAL);
        if (process.env.SLUICE_CRASH_VERBOSE !== undefined) console.log(`kill seed ${SEED}\n${log.join('\n')}`);
      } catch (error) {
        console.error(`sigkill in-flight test failed with kill seed ${SEED} (replay: SLUICE_CRASH_SEED=${SEED})\n${log.join('\n')}`);
        throw error;
      }
    },
    TIMEOUT_MS,
  );
  it.skipIf(process.platform === 'win32')(
    `a bounded run (runToCompletion) killed with SIGKILL ${BOUNDED_KILLS} times and run again ends with the sinks and totals of an uninterrupted bounded run`,
    async () => {
      const log: string[] = [];
      try {
        const bounded: Input = ['bounded', String(TOTAL)];
        await Promise.all([
          runToEnd(join(root, 'bounded-straight-ckpt'), join(root, 'bounded-straight'), bounded),
          (async () => {
            await killRepeatedly(join(root, 'bounded-crashed-ckpt'), join(root, 'bounded-crashed'), seededRandom(SEED + 2), log, BOUNDED_KILLS, bounded);
            await runToEnd(join(root, 'bounded-crashed-ckpt'), join(root, 'bounded-crashed'), bounded);
          })(),
        ]);
        const straight = await batches<Count>(join(root, 'bounded-straight', 'counts'));
        const crashed = await batches<Count>(join(root, 'bounded-crashed', 'counts'));
        // The same batches (20 rows each, batch k rows 20k ..), and not one more: the run ends with its data.
        expect([...straight.keys()]).toEqual(Array.from({ length: TOTAL / ROWS_PER_BATCH }, (_, i) => i));
        expect(crashed).toEqual(straight);
        const countsByKey = expectSameRecords(crashed, straight, TOTAL);
        const totals = lastTotals(await batches<[string, number]>(join(root, 'bounded-crashed', 'totals')));
        expect(totals).toEqual(new Map([...countsByKey].map(([key, counts]) => [key, counts.length])));
        expectEachRejectedOnce(await batches<DeadLetterRow>(join(root, 'bounded-crashed', 'dead')), TOTAL);
        if (process.env.SLUICE_CRASH_VERBOSE !== undefined) console.log(`kill seed ${SEED}\n${log.join('\n')}`);
      } catch (error) {
        console.error(`sigkill bounded test failed with kill seed ${SEED} (replay: SLUICE_CRASH_SEED=${SEED} SLUICE_CRASH_KILLS=${KILLS})\n${log.join('\n')}`);
        throw error;
      }
    },
    TIMEOUT_MS,
  );
  it.skipIf(process.platform === 'win32')(
    `a job reading a directory, killed with SIGKILL ${DIRECTORY_KILLS} times at random moments while files arrive (a late one sorting first), ends with the records and totals of an uninterrupted run`,
    async () => {
      const log: string[] = [];
      try {
        const dir = (name: string): string => join(root, `directory-${name}`);
        const input = (name: string): Input => ['directory', join(dir(name), 'input'), String(FILES)];
        const straightFeed = feedDirectory(join(dir('straight'), 'input'));
        const crashedFeed = feedDirectory(join(dir('crashed'), 'input'));
        await Promise.all([
          runToEnd(join(dir('straight'), 'ckpt'), join(dir('straight'), 'out'), input('straight'), straightFeed.onLine),
          straightFeed.done,
          crashedFeed.done,
          (async () => {
            await killRepeatedly(join(dir('crashed'), 'ckpt'), join(dir('crashed'), 'out'), seededRandom(SEED + 1), log, DIRECTORY_KILLS, input('crashed'), crashedFeed.onLine);
            await runToEnd(join(dir('crashed'), 'ckpt'), join(dir('crashed'), 'out'), input('crashed'), crashedFeed.onLine);
          })(),
        ]);
        const straight = await batches<Count>(join(dir('straight'), 'out', 'counts'));
        const crashed = await batches<Count>(join(dir('crashed'), 'out', 'counts'));
        const countsByKey = expectSameRecords(crashed, straight, DIRECTORY_TOTAL);

        // The late file is taken after every other file, and read once.
        const batchOf = new Map([...crashed].flatMap(([id, records]) => records.map(([, , i]) => [i, id] as const)));
        const lateFrom = (FILES - 1) * ROWS_PER_FILE;
        const lastEarlier = Math.max(...[...batchOf].filter(([i]) => i < lateFrom).map(([, id]) => id));
        expect(Math.min(...[...batchOf].filter(([i]) => i >= lateFrom).map(([, id]) => id))).toBeGreaterThanOrEqual(lastEarlier);

        const totals = lastTotals(await batches<[string, number]>(join(dir('crashed'), 'out', 'totals')));
        expect(totals).toEqual(lastTotals(await batches<[string, number]>(join(dir('straight'), 'out', 'totals'))));
        expect(totals).toEqual(new Map([...countsByKey].map(([key, counts]) => [key, counts.length])));
        expectEachRejectedOnce(await batches<DeadLetterRow>(join(dir('crashed'), 'out', 'dead')), DIRECTORY_TOTAL);
        if (process.env.SLUICE_CRASH_VERBOSE !== undefined) console.log(`kill seed ${SEED}\n${log.join('\n')}`);
      } catch (error) {
        console.error(`sigkill directory test failed with kill seed ${SEED} (replay: SLUICE_CRASH_SEED=${SEED} SLUICE_CRASH_KILLS=${KILLS})\n${log.join('\n')}`);
        throw error;
      }
    },
    TIMEOUT_MS,
  );
});
