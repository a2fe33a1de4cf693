import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import type { ManualClock, StreamingContext } from 'sluice';

/** A fresh temporary directory for every test of the file, removed after it. */
export function useTempDir(): () => string {
  let dir: string | undefined;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-ckpt-'));
  });
  afterEach(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });
  return () => {
    if (dir === undefined) throw new Error('useTempDir: no test is running.');
    return dir;
  };
}

/** Starts `ctx` and advances `clock` by `n` batch intervals, fewer when the context stops on a failure. */
export async function runFor(ctx: StreamingContext, clock: ManualClock, n: number): Promise<void> {
  await ctx.start();
  for (let i = 0; i < n && ctx.state === 'active'; i++) await clock.advance(ctx.batchInterval);
}
