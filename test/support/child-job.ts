import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';

const repo = fileURLToPath(new URL('../../', import.meta.url));

/** How a child job ended, with everything it printed. */
export interface ChildExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: readonly string[];
  readonly stderr: string;
}

/** A job running in a child process: its stdout lines so far, and its end. */
export interface ChildJob {
  readonly child: ChildProcess;
  readonly stdout: readonly string[];
  readonly exit: Promise<ChildExit>;
  /** Calls `listener` with each stdout line from now on. */
  onLine(listener: (line: string) => void): void;
}

/** The children still running, killed after the test file if a test ends early. */
const running = new Set<ChildProcess>();
afterAll(async () => {
  const exits = [...running].map((child) => once(child, 'close'));
  for (const child of running) child.kill('SIGKILL');
  await Promise.all(exits);
});

/**
 * Runs `node <script> ...args` from the repository root (fixtures are plain .mjs over the built
 * package in dist/, which test/global-setup.ts builds), collecting its stdout by line.
 */
export function startChildJob(script: string, args: readonly string[], env?: Readonly<Record<string, string>>): ChildJob {
  const child = spawn(process.execPath, [script, ...args], { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'], ...(env === undefined ? {} : { env: { ...process.env, ...env } }) });
  running.add(child);
  const stdout: string[] = [];
  const listeners: ((line: string) => void)[] = [];
  let partial = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      stdout.push(line);
      for (const listener of listeners) listener(line);
    }
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  // 'close' comes after the exit and the end of both streams.
  const exit = once(child, 'close').then(([code, signal]) => {
    running.delete(child);
    return { code: code as number | null, signal: signal as NodeJS.Signals | null, stdout, stderr };
  });
  return { child, stdout, exit, onLine: (listener) => listeners.push(listener) };
}

/** How {@link runInterrupted} interrupts a job: a SIGKILL, or a SIGTERM the job answers with a graceful stop. */
export type Interruption = 'kill' | 'stop';

/** Options of {@link runInterrupted}. */
export interface InterruptedRunOptions {
  readonly how: Interruption;
  /** How many times to interrupt the job before letting it run to its end. */
  readonly times: number;
  /** The seeded generator the interruption points come from. */
  readonly next: () => number;
  /**
   * Interrupts once the job has printed between 0 and `maxBatches` progress lines (`batch ...`),
   * a seeded number, plus a seeded 0 to 20 ms; a stop is sent after the job's `started` line only.
   */
  readonly maxBatches: number;
  /** Receives a line per run, for the failure message. */
  readonly log: string[];
  /** Called with each run's job as it starts (to serve it input, for one). */
  readonly onStart?: (job: ChildJob) => void;
}

/**
 * Runs a fixture job (`node <script> ...args`) on the same checkpoint again and again: each run
 * interrupted at a seeded point (killed, or stopped by SIGTERM), until `times` interruptions, then
 * once more to its end. The fixture prints a line starting `started` once it handles SIGTERM, and `finished` when
 * the job read all its input; a run that fails otherwise than by the interruption fails this.
 *
 * @returns how many runs were interrupted before they finished.
 */
export async function runInterrupted(script: string, args: readonly string[], options: InterruptedRunOptions): Promise<number> {
  const { how, next, log } = options;
  let interrupted = 0;
  for (let run = 0; run <= options.times; run++) {
    const last = run === options.times;
    const job = startChildJob(script, args);
    options.onStart?.(job);
    let timer: NodeJS.Timeout | undefined;
    if (!last) {
      const batches = Math.floor(next() * (options.maxBatches + 1));
      const extraMs = Math.floor(next() * 21);
      let started = how === 'kill';
      let seen = 0;
      const interrupt = (): void => {
        timer = setTimeout(() => job.child.kill(how === 'kill' ? 'SIGKILL' : 'SIGTERM'), extraMs);
      };
      if (started && batches === 0) interrupt();
      job.onLine((line) => {
        if (line.startsWith('started')) started = true;
        else if (line.startsWith('batch ') && started) seen += 1;
        else return;
        if (timer === undefined && started && seen >= batches) interrupt();
      });
      log.push(`run ${run}: ${how} after ${batches} batch lines${how === 'stop' ? ' after it started' : ''} and ${extraMs} ms`);
    }
    const { code, signal, stdout, stderr } = await job.exit;
    clearTimeout(timer);
    const finished = stdout.includes('finished');
    log.push(`run ${run}: exit ${code ?? signal}, ${stdout.filter((l) => l.startsWith('batch ')).length} batch lines, ${finished ? 'finished' : 'not finished'}`);
    // A SIGTERM that lands as the job ends, after its handlers are gone, ends it by the signal.
    const bySignal = !last && signal === (how === 'kill' ? 'SIGKILL' : 'SIGTERM');
    if (!(code === 0 || bySignal)) throw new Error(`run ${run} exited with ${code ?? signal}:\n${stderr}`);
    if (finished) return interrupted;
    interrupted += 1;
    if (last) throw new Error(`run ${run} ended without finishing:\n${stdout.join('\n')}\n${stderr}`);
  }
  return interrupted;
}
