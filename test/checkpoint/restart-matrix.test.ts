import { spawn } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inspectCheckpoint, type CheckpointInspection } from 'sluice/checkpoint';
import { seededRandom } from 'sluice/testing';
import { LineServer } from '../support/line-server.js';

/*
 * The restart matrix (issue 17): every built-in replayable source (rate, directory, socket with
 * the receiver write-ahead log) × {a clean stop (SIGTERM, stopOnSignals), a SIGKILL at a random
 * point} × {the same program, a stateless operator added, a stateful operator added, a stateful
 * operator removed with dropState, removed without it, a session gap changed, a state version
 * bumped with a migration}. The job (fixtures/restart-matrix-job.mjs, on the built package) runs
 * in a child process: the first program is stopped or killed, then the checkpoint and the sinks
 * are copied for each program of the row, which restarts on its copy and runs to the end. Each
 * cell is compared with a run of the first program that never stopped: its sinks (every record
 * of 'counts' once with the same running count, every session once) and the committed state of
 * every operator; or it expects the refusal (its code, and a message naming the operator and the
 * field), an unchanged checkpoint, and then the first program finishing the job as if nothing
 * had been tried.
 *
 * The stop or kill lands after a seeded random number of batches with data (2 to 7 of at least
 * 12) and, for a kill, a random delay under a batch: well before the last records, so every key
 * is read after the restart. SLUICE_MATRIX_SEED replays a schedule (the seed is printed when a
 * cell fails); the timing of the child still varies. SLUICE_MATRIX_VERBOSE=1 prints where each
 * first run stopped.
 */

const SEED = Number(process.env.SLUICE_MATRIX_SEED ?? Math.floor(Math.random() * 2 ** 31));
const RECORDS = 240;
const LINES_PER_FILE = 20; // the fixture's, as for the socket's 20 lines a batch
const KEYS = 3;
/** Children at once: enough to overlap their start-up on two cores, few enough that batches keep pace. */
const POOL = 4;
const CHILD_TIMEOUT_MS = 30_000;

const repo = fileURLToPath(new URL('../../', import.meta.url));
const jobFile = fileURLToPath(new URL('./fixtures/restart-matrix-job.mjs', import.meta.url));

const SOURCES = ['rate', 'directory', 'socket'] as const;
type SourceKind = (typeof SOURCES)[number];
const STOPS = ['clean stop', 'SIGKILL'] as const;
type Stop = (typeof STOPS)[number];
const PROGRAMS = ['same', 'stateless-added', 'stateful-added', 'stateful-removed-with-consent', 'stateful-removed', 'gap-changed', 'version-bumped'] as const;
type Program = (typeof PROGRAMS)[number];

/** What the fixture reports on stdout. */
type JobEvent =
  | { readonly event: 'started'; readonly received?: number }
  | { readonly event: 'batch'; readonly batchId: number; readonly input: number; readonly end: unknown }
  | { readonly event: 'refused'; readonly code: string; readonly message: string }
  | { readonly event: 'stopped' | 'done' };

interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly events: readonly JobEvent[];
  readonly stderr: string;
}

interface RunningJob {
  readonly kill: (signal: NodeJS.Signals) => void;
  readonly exit: Promise<Exit>;
}

let root: string;
let inputDir: string;
/** How to kill each child still running, if the file ends early. */
const children = new Set<() => void>();

/** A slot for a child process: at most POOL run at once. */
const waiting: (() => void)[] = [];
let free = POOL;
async function slot(): Promise<() => void> {
  if (free === 0) await new Promise<void>((resolve) => waiting.push(resolve));
  else free -= 1;
  return () => {
    const next = waiting.shift();
    if (next === undefined) free += 1;
    else next();
  };
}

/**
 * Runs the job with `program` on `dirs` and tells `onEvent` what it reports. For the socket
 * source it serves the records from a new LineServer: see {@link feed}.
 */
async function runJob(source: SourceKind, program: Program, dirs: Dirs, onEvent: (event: JobEvent, job: RunningJob) => void = () => undefined, feedUpTo = RECORDS): Promise<Exit> {
  const release = await slot();
  const server = source === 'socket' ? await LineServer.listen() : undefined;
  const where = source === 'directory' ? inputDir : String(server?.port ?? '-');
  const child = spawn(process.execPath, [jobFile, source, program, dirs.checkpoint, dirs.out, String(RECORDS), where], { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
  const kill = (signal: NodeJS.Signals): void => {
    child.kill(signal);
  };
  const killNow = (): void => {
    kill('SIGKILL');
  };
  children.add(killNow);
  const guard = setTimeout(killNow, CHILD_TIMEOUT_MS);
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const events: JobEvent[] = [];
  let stopFeeding = (): void => undefined;
  const job: RunningJob = {
    kill,
    exit: new Promise<Exit>((resolve) => {
      child.on('close', (code, signal) => {
        children.delete(killNow);
        clearTimeout(guard);
        stopFeeding();
        resolve({ code, signal, events, stderr });
      });
    }),
  };
  createInterface({ input: child.stdout }).on('line', (line) => {
    const event = JSON.parse(line) as JobEvent;
    events.push(event);
    if (event.event === 'started' && server !== undefined) stopFeeding = feed(server, event.received ?? 0, feedUpTo);
    onEvent(event, job);
  });
  try {
    return await job.exit;
  } finally {
    await server?.close();
    release();
  }
}

/**
 * The socket rule. TCP has no acknowledgements: lines written to a job that is then killed may
 * never reach its write-ahead log, and only lines in that log can be replayed. So the server plays
 * an acknowledging sender: it sends nothing until the (re)started job reports how many lines its
 * write-ahead log holds, then sends from that line on, 20 lines every 20 ms. Lines lost in flight
 * at a kill are sent again; lines the log holds are never sent twice; and the job, across its
 * restarts, receives every record exactly once, as the uninterrupted run does, which the cells
 * then compare.
 */
function feed(server: LineServer, from: number, upTo: number): () => void {
  let next = from;
  let timer: NodeJS.Timeout | undefined;
  void server.connection(1).then((socket) => {
    timer = setInterval(() => {
      const to = Math.min(upTo, next + LINES_PER_FILE);
      if (next < to) socket.write(Array.from({ length: to - next }, (_, k) => `${next + k}\n`).join(''));
      next = to;
    }, 20);
  });
  return () => {
    clearInterval(timer);
  };
}

interface Dirs {
  readonly checkpoint: string;
  readonly out: string;
}

async function dirsAt(path: string): Promise<Dirs> {
  await mkdir(path, { recursive: true });
  return { checkpoint: join(path, 'checkpoint'), out: join(path, 'out') };
}

/** Runs `program` until it drains its input and reports done. */
async function runToEnd(source: SourceKind, program: Program, dirs: Dirs): Promise<void> {
  const exit = await runJob(source, program, dirs);
  if (exit.code !== 0 || exit.events.at(-1)?.event !== 'done') throw new Error(`the ${program} job on ${source} exited with ${exit.code ?? exit.signal} before it was done:\n${exit.stderr}`);
}

type Count = [key: string, n: number, i: number];
/** A committed row of an operator's store. */
type Row = readonly [key: string, value: unknown];

/** What a finished run left: its sinks and the committed state of its operators. */
interface Outcome {
  /** Every record of the 'counts' sink, by index. */
  readonly counts: Count[];
  /** Every session the 'sessions' sink emitted, as JSON, sorted. */
  readonly sessions: string[];
  /** The last totals of the 'extra' sink, if it has one. */
  readonly extra: Record<string, number> | undefined;
  /** The committed rows of every operator, each value without what depends on wall time. */
  readonly state: Record<string, Row[]>;
}

async function sinkBatches<T>(dir: string): Promise<T[][]> {
  const names = (await readdir(dir).catch(() => [])).filter((name) => /^batch-\d+\.json$/.test(name));
  names.sort((a, b) => Number(/\d+/.exec(a)?.[0]) - Number(/\d+/.exec(b)?.[0]));
  return Promise.all(names.map(async (name) => JSON.parse(await readFile(join(dir, name), 'utf8')) as T[]));
}

async function outcome({ out }: Dirs): Promise<Outcome> {
  const extra = (await sinkBatches<[string, number]>(join(out, 'extra'))).at(-1);
  const state = JSON.parse(await readFile(join(out, 'state.json'), 'utf8')) as Record<string, Row[]>;
  // A mapWithState entry is [state, touchedAt, writtenAt, writtenWatermark, version?]: its batch
  // times are the wall clock's, and the watermark it was written at depends on how batches fell.
  const counts = state.counts?.map(([key, entry]): Row => [key, { state: (entry as unknown[])[0], version: (entry as unknown[])[4] ?? 1 }]);
  return {
    counts: (await sinkBatches<Count>(join(out, 'counts'))).flat().sort((a, b) => a[2] - b[2]),
    sessions: (await sinkBatches<unknown>(join(out, 'sessions'))).flat().map((s) => JSON.stringify(s)).sort(),
    extra: extra === undefined ? undefined : Object.fromEntries(extra),
    state: { ...state, ...(counts === undefined ? {} : { counts }) },
  };
}

/** Where the interrupted first run left a row of the matrix. */
interface Interrupted {
  readonly dirs: Dirs;
  readonly what: string;
}

/**
 * Runs the first program and stops it (SIGTERM) or kills it (SIGKILL) after a random number of
 * batches with data; for the socket's clean stop, once it has batched a random number of lines,
 * the only lines sent (so the graceful close cuts no line in two).
 */
async function interrupt(source: SourceKind, stop: Stop, next: () => number): Promise<Interrupted> {
  const dirs = await dirsAt(join(root, source, stop, 'first'));
  const batches = 2 + Math.floor(next() * 6);
  const delay = Math.floor(next() * 20);
  const lines = LINES_PER_FILE * (2 + Math.floor(next() * 6)) + Math.floor(next() * LINES_PER_FILE);
  const byLines = source === 'socket' && stop === 'clean stop';
  let withData = 0;
  let sent = false;
  const exit = await runJob(
    source,
    'same',
    dirs,
    (event, job) => {
      if (event.event !== 'batch' || sent) return;
      if (event.input > 0) withData += 1;
      if (byLines ? (event.end as number) < lines : withData < batches) return;
      sent = true;
      if (stop === 'clean stop') job.kill('SIGTERM');
      else
        setTimeout(() => {
          job.kill('SIGKILL');
        }, delay);
    },
    byLines ? lines : RECORDS,
  );
  const ended = exit.signal === 'SIGKILL' ? 'killed' : exit.events.at(-1)?.event;
  if (ended !== (stop === 'SIGKILL' ? 'killed' : 'stopped')) throw new Error(`the first run was to end by ${stop} but ended ${ended ?? `with ${exit.code}`}:\n${exit.stderr}`);
  const what = byLines ? `stopped once ${lines} lines were batched` : stop === 'clean stop' ? `stopped after ${batches} batches with data` : `killed ${delay} ms after ${batches} batches with data`;
  return { dirs, what };
}

/** The records a checkpoint has committed: those its next program starts after. */
function committedRecords(source: SourceKind, inspection: CheckpointInspection): number {
  const offset = inspection.sources[0]?.offset as { rows?: number; file?: number; line?: number } | number | undefined;
  if (offset === undefined || offset === 0) return 0;
  if (typeof offset === 'number') return offset;
  return source === 'rate' ? (offset.rows ?? 0) : (offset.file ?? 0) * LINES_PER_FILE + (offset.line ?? 0);
}

/** What a refused start must not change. */
const standing = (i: CheckpointInspection) => ({ lastCommitted: i.lastCommitted, pending: i.pending, sources: i.sources, operators: i.operators, fingerprint: i.fingerprint });

const REFUSALS: Partial<Record<Program, RegExp>> = {
  'stateful-removed': /the state of the stateful operator 'totals' \(updateStateByKey\), which the program no longer has\. To drop that state, restart with the option dropState: \['totals'\]/,
  'gap-changed': /'sessions' \(eventTimeWindow\) had gap 50 and now has 5: its stored state would mean something else/,
};

/** Memoized per key, so the cells of a row share the run they start from. */
function once<K, V>(make: (key: K) => Promise<V>): (key: K) => Promise<V> {
  const made = new Map<K, Promise<V>>();
  return (key) => {
    let value = made.get(key);
    if (value === undefined) made.set(key, (value = make(key)));
    return value;
  };
}

const uninterrupted = once(async (source: SourceKind): Promise<Outcome> => {
  const dirs = await dirsAt(join(root, source, 'uninterrupted'));
  await runToEnd(source, 'same', dirs);
  return outcome(dirs);
});

const interrupted = once(async (row: `${SourceKind}/${Stop}`): Promise<Interrupted> => {
  const [source, stop] = row.split('/') as [SourceKind, Stop];
  return interrupt(source, stop, seededRandom(SEED + SOURCES.indexOf(source) * STOPS.length + STOPS.indexOf(stop)));
});

/** Restarts a copy of the row's checkpoint and sinks with `program`, and checks the cell. */
async function cell(source: SourceKind, stop: Stop, program: Program): Promise<void> {
  const [expected, first] = await Promise.all([uninterrupted(source), interrupted(`${source}/${stop}`)]);
  const dirs = await dirsAt(join(root, source, stop, program));
  await cp(first.dirs.checkpoint, dirs.checkpoint, { recursive: true });
  await cp(first.dirs.out, dirs.out, { recursive: true });
  const before = await inspectCheckpoint(dirs.checkpoint);
  const committed = committedRecords(source, before);
  // So that every key has records after the restart (a graceful stop drains what a source already has).
  expect(committed, 'records the first run committed').toBeLessThanOrEqual(RECORDS - KEYS);
  if (process.env.SLUICE_MATRIX_VERBOSE !== undefined) console.log(`${source} / ${stop} / ${program}: the first run was ${first.what}; ${committed} records committed, batches ${JSON.stringify(before.pending)} to replay`);

  const refusal = REFUSALS[program];
  if (refusal !== undefined) {
    const exit = await runJob(source, program, dirs);
    expect(exit.events.at(-1), exit.stderr).toMatchObject({ event: 'refused', code: 'CHECKPOINT_INCOMPATIBLE', message: expect.stringMatching(refusal) as unknown });
    expect(standing(await inspectCheckpoint(dirs.checkpoint))).toEqual(standing(before));
    // The refused start changed nothing: the program that wrote the checkpoint finishes the job.
    await runToEnd(source, 'same', dirs);
    expect(await outcome(dirs)).toEqual(expected);
    return;
  }
  await runToEnd(source, program, dirs);
  const { counts, sessions, extra, state } = await outcome(dirs);
  // Every record once, with the running count it has in the uninterrupted run; every session once.
  expect(counts).toEqual(expected.counts);
  expect(sessions).toEqual(expected.sessions);
  const { counts: expectedCounts = [], totals: _totals, ...others } = expected.state;
  switch (program) {
    case 'same':
    case 'stateless-added':
      expect(state).toEqual(expected.state);
      break;
    case 'stateful-added': {
      // It starts empty at the restart: it counts the records after the last commit, replayed or new.
      const counted = Object.fromEntries(Array.from({ length: KEYS }, (_, k) => [`k${k}`, Array.from({ length: RECORDS }, (_, i) => i).filter((i) => i >= committed && i % KEYS === k).length]));
      expect(extra).toEqual(counted);
      const { extra: extraState = [], ...kept } = state;
      expect(kept).toEqual(expected.state);
      expect(extraState.map(([, n]) => n as number)).toEqual(Object.values(counted));
      break;
    }
    case 'stateful-removed-with-consent': {
      expect(state).toEqual({ counts: expectedCounts, ...others });
      const after = await inspectCheckpoint(dirs.checkpoint);
      expect(after.operators.map((op) => op.id)).not.toContain('totals');
      expect(after.fingerprint.stateful.map((op) => op.id)).toEqual(['counts', 'sessions']);
      break;
    }
    case 'version-bumped':
      // Every key was read after the restart (it came before the last records), so every value was migrated.
      expect(state).toEqual({ ...expected.state, counts: expectedCounts.map(([key, entry]): Row => [key, { state: { n: (entry as { state: unknown }).state }, version: 2 }]) });
      break;
    default:
      throw new Error(`no expectation for ${program}`);
  }
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'sluice-restart-matrix-'));
  inputDir = join(root, 'input');
  await mkdir(inputDir);
  // The directory source's input, written before any job lists it: file f holds records 20f .. 20f + 19.
  for (let f = 0; f < RECORDS / LINES_PER_FILE; f++) {
    const lines = Array.from({ length: LINES_PER_FILE }, (_, k) => `${f * LINES_PER_FILE + k}\n`).join('');
    await writeFile(join(inputDir, `part-${String(f).padStart(2, '0')}.txt`), lines);
  }
  // The children run compiled JavaScript: test/global-setup.ts has built dist/.
});
afterAll(async () => {
  for (const kill of children) kill();
  await rm(root, { recursive: true, force: true });
});

// Signals and a killed child's open files behave otherwise on Windows.
const onPosix = process.platform === 'win32' ? describe.skip : describe.concurrent;

onPosix.each(SOURCES)('restarting a job on the %s source', (source) => {
  describe.each(STOPS)('after a %s', (stop) => {
    it.each(PROGRAMS)('with the program %s', async (program) => {
      try {
        await cell(source, stop, program);
      } catch (error) {
        const first = await interrupted(`${source}/${stop}`).catch(() => undefined);
        console.error(`restart matrix: ${source} / ${stop} / ${program} failed with seed ${SEED} (replay: SLUICE_MATRIX_SEED=${SEED}); the first run was ${first?.what ?? 'not interrupted'}`);
        throw error;
      }
    }, 60_000);
  });
});
