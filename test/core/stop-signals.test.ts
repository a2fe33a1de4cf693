import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { foreachBatch, ManualClock, StreamingContext } from 'sluice';
import { inspectCheckpoint } from 'sluice/checkpoint';
import { useTempDir } from '../support/temp-dir.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const job = fileURLToPath(new URL('./fixtures/signal-job.mjs', import.meta.url));
const dir = useTempDir();

interface Run {
  readonly child: ChildProcess;
  /** Every line the job printed so far. */
  readonly lines: string[];
  /** Resolves once a line matches. */
  printed(pattern: RegExp): Promise<void>;
  readonly exited: Promise<{ readonly code: number | null; readonly signal: NodeJS.Signals | null }>;
}

function runJob(checkpoint: string, slowBatch: number, delayMs: number): Run {
  const child = spawn(process.execPath, [job, checkpoint, String(slowBatch), String(delayMs)], { cwd: repo, stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: string[] = [];
  const waiting: { pattern: RegExp; resolve: () => void }[] = [];
  let rest = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    const text = rest + chunk.toString('utf8');
    const complete = text.split('\n');
    rest = complete.pop() ?? '';
    lines.push(...complete);
    for (const wait of waiting.splice(0)) {
      if (complete.some((line) => wait.pattern.test(line))) wait.resolve();
      else waiting.push(wait);
    }
  });
  // 'close', not 'exit': the process may end before its last output has been read from the pipe.
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => { resolve({ code, signal }); }));
  return {
    child,
    lines,
    exited,
    printed: (pattern) =>
      lines.some((line) => pattern.test(line))
        ? Promise.resolve()
        : new Promise<void>((resolve, reject) => {
            waiting.push({ pattern, resolve });
            void exited.then(() => { reject(new Error(`the job ended without printing ${pattern}:\n${lines.join('\n')}`)); });
          }),
  };
}

/** The job's own lines (not its JSON log lines). */
const steps = (lines: readonly string[]): string[] => lines.filter((line) => !line.startsWith('{'));

describe('stopOnSignals in a real process', () => {
  it('SIGTERM stops gracefully: the batch in flight finishes and commits, and the program ends normally', async () => {
    const checkpoint = join(dir(), 'ckpt');
    const run = runJob(checkpoint, 3, 500);
    await run.printed(/^slow batch 3 output started$/);
    run.child.kill('SIGTERM');
    expect(await run.exited).toEqual({ code: 0, signal: null });
    const out = steps(run.lines);
    const started = out.indexOf('slow batch 3 output started');
    expect(out.slice(started, started + 3)).toEqual(['slow batch 3 output started', 'slow batch 3 output done', 'batch 3 committed']);
    expect(out.slice(-2)).toEqual(['context stopped', 'program ends']);
    expect(run.lines.some((line) => line.includes('stop signal received: stopping gracefully'))).toBe(true);
    const info = await inspectCheckpoint(checkpoint);
    expect(info.lastCommitted?.batchId).toBeGreaterThanOrEqual(3);
    expect(info.pending).toEqual([]);
  });

  it('a second signal stops at once: the process ends by the signal, the batch in flight not committed', async () => {
    const checkpoint = join(dir(), 'ckpt');
    const run = runJob(checkpoint, 3, 60_000);
    await run.printed(/^slow batch 3 output started$/);
    run.child.kill('SIGINT');
    await run.printed(/stop signal received: stopping gracefully/);
    run.child.kill('SIGTERM');
    expect(await run.exited).toEqual({ code: null, signal: 'SIGTERM' });
    expect(steps(run.lines)).not.toContain('slow batch 3 output done');
    expect(run.lines.some((line) => line.includes('second stop signal received: stopping at once'))).toBe(true);
    const info = await inspectCheckpoint(checkpoint);
    expect(info.lastCommitted?.batchId).toBe(2);
    expect(info.pending).toEqual([3]);
  });
});

describe('stopOnSignals', () => {
  it('removes its handlers when the context stops', async () => {
    const before = [process.listenerCount('SIGTERM'), process.listenerCount('SIGINT')];
    const ctx = new StreamingContext({ batchInterval: 1000, clock: new ManualClock() });
    ctx.queueStream([[1]]).pipe(foreachBatch(() => undefined));
    expect(ctx.stopOnSignals().stopOnSignals()).toBe(ctx);
    expect([process.listenerCount('SIGTERM'), process.listenerCount('SIGINT')]).toEqual(before.map((n) => n + 1));
    await ctx.start();
    await ctx.stop();
    expect([process.listenerCount('SIGTERM'), process.listenerCount('SIGINT')]).toEqual(before);
    expect(() => ctx.stopOnSignals()).toThrow(TypeError);
  });
});
