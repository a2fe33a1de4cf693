import { pino, type Logger } from 'pino';
import { afterEach } from 'vitest';
import { WorkerPool, type WorkerPoolOptions } from '../../../core/parallel/worker-pool.js';

/*
 * What the pool's tests share: pools on fixtures/task-worker.mjs (plain JavaScript over the built
 * package, dist/, built by test/global-setup.ts), closed after each test, and a logger whose
 * lines a test can read.
 */

/** The workers' script: fixtures/task-worker.mjs. */
export const taskWorkerScript = new URL('./fixtures/task-worker.mjs', import.meta.url);

/**
 * Gives `startPool`, which starts a pool on fixtures/task-worker.mjs, and `track`, for a pool a
 * test makes itself: every pool of either is closed after each test of the calling file.
 */
export function poolsClosedAfterEach(): {
  startPool: (options: Omit<WorkerPoolOptions, 'script'>) => Promise<WorkerPool>;
  track: (pool: WorkerPool) => WorkerPool;
} {
  const pools: WorkerPool[] = [];
  afterEach(async () => {
    await Promise.all(pools.splice(0).map((pool) => pool.close()));
  });
  const track = (pool: WorkerPool): WorkerPool => {
    pools.push(pool);
    return pool;
  };
  return {
    track,
    startPool: async (options) => {
      const pool = track(new WorkerPool({ script: taskWorkerScript, ...options }));
      await pool.start();
      return pool;
    },
  };
}

/** A logger whose lines land in `lines`. */
export function capturingLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { logger, lines };
}
