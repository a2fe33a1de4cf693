import { mkdir, rename, truncate, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { DirectorySource, foreachBatch, ManualClock, StreamingContext, type DirectorySourceOptions } from 'sluice';
import { getOrCreate } from 'sluice/checkpoint';
import type { Offset, SourceEnvironment } from 'sluice/extend';
import { MemoryWriteAheadLog } from 'sluice/testing';
import { useTempDir } from '../../support/temp-dir.js';

/*
 * The directory source across restarts: the files it took live in its log (in the checkpoint),
 * so a fresh instance reads logged ranges again byte for byte, never takes a file twice, and says
 * when a file it must read again is gone or changed. Also its per-batch file limit and retention.
 */

const dir = useTempDir('sluice-directory-restart-');

/** Writes `name` under a hidden name, then renames it into place, as the source asks. */
async function put(name: string, lines: readonly string[], mtime?: Date, folder = 'in'): Promise<void> {
  const hidden = join(dir(), folder, `.${name}`);
  await mkdir(join(dir(), folder), { recursive: true });
  await writeFile(hidden, lines.map((line) => `${line}\n`).join(''));
  if (mtime !== undefined) await utimes(hidden, mtime, mtime);
  await rename(hidden, join(dir(), folder, name));
}

function environment(log: MemoryWriteAheadLog | undefined, logger?: Logger): SourceEnvironment {
  const clock = new ManualClock();
  return { clock, logger: logger ?? new StreamingContext({ batchInterval: 1000, clock }).logger, name: 'files', ...(log === undefined ? {} : { writeAheadLog: log }) };
}

async function started(log: MemoryWriteAheadLog | undefined, options: DirectorySourceOptions<string> = {}, logger?: Logger, folder = 'in'): Promise<DirectorySource> {
  const source = new DirectorySource(join(dir(), folder), options);
  await source.start(environment(log, logger));
  return source;
}

/** Ranges of at most `max` lines from `start` until nothing is new (listing twice first, so files are stable). */
async function ranges(source: DirectorySource, start: Offset, max: number): Promise<Offset[]> {
  await source.latestOffset(start, 0);
  const offsets = [start];
  for (;;) {
    const end = await source.latestOffset(offsets.at(-1) as Offset, max);
    if (JSON.stringify(end) === JSON.stringify(offsets.at(-1))) return offsets;
    offsets.push(end);
  }
}

async function records(source: DirectorySource, offsets: readonly Offset[]): Promise<string[][]> {
  const out: string[][] = [];
  for (let i = 1; i < offsets.length; i++) out.push([...(await source.read(offsets[i - 1] as Offset, offsets[i] as Offset)).records]);
  return out;
}

describe('DirectorySource across restarts', () => {
  it('a fresh instance on the same log reads logged ranges again, and takes only files it has not taken, a late early name included', async () => {
    const log = new MemoryWriteAheadLog();
    await put('b.txt', ['b1', 'b2']);
    await put('c.txt', ['c1']);
    const first = await started(log);
    const offsets = await ranges(first, first.initialOffset(), 2);
    expect(await records(first, offsets)).toEqual([['b1', 'b2'], ['c1']]);
    first.commit(offsets[1] as Offset);

    // Restart: the range after the commit is read again as it was; then a late file that sorts first.
    const second = await started(log);
    expect(await records(second, offsets.slice(1))).toEqual([['c1']]);
    await put('a.txt', ['a1']);
    const later = await ranges(second, offsets.at(-1) as Offset, 10);
    expect(await records(second, later)).toEqual([['a1']]);
    expect(later.at(-1)).toEqual({ file: 3, line: 0 });
  });

  it('a checkpointed textFileStream resumes after a clean stop and reads each line once', async () => {
    const checkpoint = join(dir(), 'ckpt');
    const seen: string[][] = [];
    const clock = new ManualClock();
    const runOnce = async (batches: number): Promise<void> => {
      const ctx = await getOrCreate(checkpoint, (cp) => {
        const c = new StreamingContext({ batchInterval: 1000, clock, checkpoint: cp });
        c.textFileStream(join(dir(), 'in'), { name: 'files', maxRecordsPerBatch: 2 }).pipe(foreachBatch((lines) => void seen.push([...lines])));
        return c;
      });
      await ctx.start();
      await clock.advance(batches * 1000);
      await ctx.stop({ graceful: true });
    };
    await put('a.txt', ['a1', 'a2', 'a3']);
    await runOnce(3);
    await put('0.txt', ['z1']);
    await runOnce(3);
    expect(seen.flat()).toEqual(['a1', 'a2', 'a3', 'z1']);
  });

  it('refuses to replay a range whose file was deleted, shortened or changed, naming the file; a file that grew gives the bytes it had', async () => {
    for (const damage of ['deleted', 'shortened', 'changed', 'grew'] as const) {
      const log = new MemoryWriteAheadLog();
      await put(`${damage}.txt`, ['one', 'two'], undefined, damage);
      const first = await started(log, {}, undefined, damage);
      const offsets = await ranges(first, first.initialOffset(), 10);
      const path = join(dir(), damage, `${damage}.txt`);
      if (damage === 'deleted') await rename(path, join(dir(), `${damage}.moved`));
      if (damage === 'shortened') await truncate(path, 4);
      if (damage === 'changed') await writeFile(path, 'ONE\nTWO\n');
      if (damage === 'grew') await writeFile(path, 'one\ntwo\nthree\n');
      const warn = vi.fn();
      const second = await started(log, {}, { warn, info: vi.fn() } as unknown as Logger, damage);
      const replay = second.read(offsets[0] as Offset, offsets[1] as Offset);
      if (damage === 'grew') {
        expect((await replay).records).toEqual(['one', 'two']);
        expect(warn).toHaveBeenCalledWith(expect.objectContaining({ file: path, takenSize: 8, size: 14 }), expect.stringMatching(/grew after/));
      } else {
        await expect(replay).rejects.toMatchObject({ code: 'SOURCE_OFFSET_UNAVAILABLE', message: expect.stringContaining(path) as unknown });
        await expect(replay).rejects.toThrow({ deleted: /was deleted/, shortened: /is shorter than when it was taken/, changed: /changed after it was read/ }[damage]);
      }
    }
  });

  it('refuses a damaged log of taken files with CHECKPOINT_CORRUPT', async () => {
    const log = new MemoryWriteAheadLog();
    await log.append(['{"name":"a.txt","size":3}']);
    await expect(started(log)).rejects.toMatchObject({ code: 'CHECKPOINT_CORRUPT', message: expect.stringMatching(/entry 0 is .* not a file record/) as unknown });
  });

  it('maxFilesPerBatch bounds the files one range reads from, beside maxRecords', async () => {
    for (const name of ['a', 'b', 'c', 'd', 'e']) await put(`${name}.txt`, [`${name}1`, `${name}2`]);
    const source = await started(undefined, { maxFilesPerBatch: 2 });
    expect(await records(source, await ranges(source, source.initialOffset(), 3))).toEqual([['a1', 'a2', 'b1'], ['b2', 'c1', 'c2'], ['d1', 'd2', 'e1'], ['e2']]);
    expect(() => new DirectorySource(dir(), { maxFilesPerBatch: 0 })).toThrow(/maxFilesPerBatch must be a positive integer/);
  });

  it('maxFileAge: the first listing takes every file; later, a file older than the newest by more than maxFileAge is skipped with a warning, and old records leave the log once committed', async () => {
    const log = new MemoryWriteAheadLog();
    const day = 86_400_000;
    const base = Date.UTC(2026, 0, 10);
    await put('a-old.txt', ['old'], new Date(base - 10 * day));
    await put('b-new.txt', ['new'], new Date(base));
    const warn = vi.fn();
    const source = await started(log, { maxFileAge: '2d' }, { warn, info: vi.fn() } as unknown as Logger);
    const offsets = await ranges(source, source.initialOffset(), 10);
    expect(await records(source, offsets)).toEqual([['old', 'new']]);
    expect(await log.first()).toBe(0);
    source.commit(offsets.at(-1) as Offset);
    expect(await log.first()).toBe(1); // a-old.txt's record is released; b-new.txt's is kept
    await put('stale.txt', ['stale'], new Date(base - 3 * day));
    await put('fresh.txt', ['fresh'], new Date(base - day));
    const later = await ranges(source, offsets.at(-1) as Offset, 10);
    expect(await records(source, later)).toEqual([['fresh']]);
    expect(warn).toHaveBeenCalledWith(expect.objectContaining({ file: join(dir(), 'in', 'stale.txt') }), expect.stringMatching(/older than maxFileAge/));
  });
});
