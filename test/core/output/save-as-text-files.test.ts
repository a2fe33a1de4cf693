import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock, StreamingContext, saveAsTextFiles, SluiceError } from 'sluice';

describe('saveAsTextFiles', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-save-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes prefix-<batchTimeMs>.suffix per batch, one record per line, and no temporary files', async () => {
    const clock = new ManualClock();
    const ctx = new StreamingContext({ batchInterval: 1000, clock });
    ctx.queueStream<unknown>([['a', 'b'], [], [['k', 1]]]).pipe(saveAsTextFiles(join(dir, 'out', 'counts'), 'txt'));
    await ctx.start();
    await clock.advance(3000);
    await ctx.stop();
    const files = (await readdir(join(dir, 'out'))).sort();
    expect(files).toEqual(['counts-1000.txt', 'counts-2000.txt', 'counts-3000.txt']);
    expect(await readFile(join(dir, 'out', 'counts-1000.txt'), 'utf8')).toBe('a\nb\n');
    expect(await readFile(join(dir, 'out', 'counts-2000.txt'), 'utf8')).toBe('');
    expect(await readFile(join(dir, 'out', 'counts-3000.txt'), 'utf8')).toBe('["k",1]\n');
  });

  it('leaves the suffix out when it is empty', async () => {
    const clock = new ManualClock();
    const ctx = new StreamingContext({ batchInterval: 500, clock });
    ctx.queueStream([[1]]).pipe(saveAsTextFiles(join(dir, 'n')));
    await ctx.start();
    await clock.advance(500);
    await ctx.stop();
    expect(await readdir(dir)).toEqual(['n-500']);
  });

  it('fails the batch with SINK_FAILED when the path cannot be written', async () => {
    await writeFile(join(dir, 'blocker'), 'a file, not a directory');
    const clock = new ManualClock();
    const ctx = new StreamingContext({ batchInterval: 1000, clock });
    ctx.queueStream([[1]]).pipe(saveAsTextFiles(join(dir, 'blocker', 'out')));
    await ctx.start();
    await clock.advance(1000);
    const error = (await ctx.awaitTermination().catch((e: unknown) => e)) as SluiceError;
    expect(error).toBeInstanceOf(SluiceError);
    expect(error.code).toBe('SINK_FAILED');
    expect(error.batchId).toBe(0);
    expect(error.message).toMatch(/could not write/);
  });
});
