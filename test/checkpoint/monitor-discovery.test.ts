import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { foreachBatch, ManualClock, mapToPair, StreamingContext } from 'sluice';
import { inspectCheckpoint, levelCheckpoint, MONITOR_DISCOVERY_FILE } from 'sluice/checkpoint';
import { updateStateByKey } from 'sluice/state';
import { useTempDir } from './checkpoint-harness.js';

const dir = useTempDir();

function job(path: string, clock: ManualClock): StreamingContext {
  const ctx = new StreamingContext({ batchInterval: 1000, clock, checkpoint: levelCheckpoint(path) });
  ctx
    .queueStream([['a', 'b', 'a']])
    .pipe(mapToPair((w: string) => [w, 1]), updateStateByKey((ones: number[], n: number | undefined) => (n ?? 0) + ones.length, { name: 'counts' }), foreachBatch(() => undefined));
  return ctx;
}

describe("a checkpoint directory holding the monitor's discovery file", () => {
  it('before its first commit still opens as a new checkpoint, and the file is left as it was', async () => {
    const path = join(dir(), 'fresh');
    await mkdir(path);
    const discovery = JSON.stringify({ url: 'http://127.0.0.1:9999/', pid: process.pid, token: false });
    await writeFile(join(path, MONITOR_DISCOVERY_FILE), discovery);
    await writeFile(join(path, `${MONITOR_DISCOVERY_FILE}.${process.pid}.tmp`), discovery);
    const clock = new ManualClock();
    const ctx = job(path, clock);
    await ctx.start();
    await clock.advance(1000);
    await ctx.stop();
    expect((await inspectCheckpoint(path)).lastCommitted?.batchId).toBe(0);
    expect(await readFile(join(path, MONITOR_DISCOVERY_FILE), 'utf8')).toBe(discovery);
  });

  it('and another file is still refused, naming that file only', async () => {
    const path = join(dir(), 'other');
    await mkdir(path);
    await writeFile(join(path, MONITOR_DISCOVERY_FILE), '{}');
    await writeFile(join(path, 'notes.txt'), 'not a checkpoint');
    await expect(job(path, new ManualClock()).start()).rejects.toMatchObject({ code: 'CHECKPOINT_UNAVAILABLE', message: expect.stringMatching(/holds no Sluice checkpoint \(notes\.txt\)/) as unknown });
  });
});
