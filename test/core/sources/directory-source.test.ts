import { appendFile, mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import type { Logger } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DirectorySource, foreachBatch, ManualClock, SluiceError, StreamingContext, type BadRecord, type BatchProgress, type DirectorySourceOptions, type InputDStream, type InputOptions } from 'sluice';
import type { Offset } from 'sluice/extend';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-directory-source-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/**
 * A context on a manual clock reading `directory` as source `files`, started; `step(n)` runs n
 * batches. `wire` adds outputs to the input before the start.
 */
async function run<T = string>(
  directory: string,
  format: DirectorySourceOptions<T>['format'],
  options: Omit<InputOptions, 'name'> = {},
  wire: (input: InputDStream<T>) => void = () => undefined,
) {
  const clock = new ManualClock();
  const ctx = new StreamingContext({ batchInterval: 1000, clock });
  const input = ctx.source(new DirectorySource<T>(directory, format === undefined ? {} : { format }), { name: 'files', ...options });
  const batches: T[][] = [];
  input.pipe(foreachBatch<T>((records) => void batches.push([...records])));
  wire(input);
  const progress: BatchProgress[] = [];
  ctx.addListener((event) => {
    if (event.type === 'batchCompleted') progress.push(event.progress);
  });
  let failure: unknown;
  const termination = ctx.awaitTermination().catch((error: unknown) => {
    failure = error;
  });
  await ctx.start();
  return {
    ctx,
    batches,
    progress,
    step: async (n = 1) => {
      for (let i = 0; i < n; i++) await clock.advance(1000);
    },
    failure: async () => {
      await termination;
      return failure;
    },
  };
}

/** Lists until stable, then reads batches of at most `max` lines until nothing is new; returns the batches. */
async function drain<T>(source: DirectorySource<T>, max: number): Promise<T[][]> {
  let start = source.initialOffset();
  await source.latestOffset(start, max);
  const out: T[][] = [];
  for (;;) {
    const end = await source.latestOffset(start, max);
    if (end === start) return out;
    const { records, badRecords = [] } = await source.read(start, end);
    expect(records.length + badRecords.length).toBeLessThanOrEqual(max);
    out.push([...records]);
    source.commit(end);
    start = end;
  }
}

describe('DirectorySource', () => {
  it('rejects a directory that is not a non-empty string', () => {
    expect(() => new DirectorySource('')).toThrow(TypeError);
    expect(() => new DirectorySource(undefined as unknown as string)).toThrow(TypeError);
    expect(() => new DirectorySource(dir, { format: 'csv' as 'text' })).toThrow(TypeError);
  });

  it('picks up each file once, in name order, on the second batch after it appears', async () => {
    await writeFile(join(dir, 'b.txt'), 'b1\n');
    await writeFile(join(dir, 'a.txt'), 'a1\na2\n');
    await writeFile(join(dir, 'c.txt'), 'c1\n');
    const s = await run(dir, 'text');
    await s.step(4);
    await s.ctx.stop();
    expect(s.batches).toEqual([[], ['a1', 'a2', 'b1', 'c1'], [], []]);
    expect(s.progress[1]?.sources[0]).toMatchObject({ startOffset: { file: 0, line: 0 }, endOffset: { file: 3, line: 0 } });
  });

  it('still reads a file that appears later with a name sorting before files already taken', async () => {
    await writeFile(join(dir, 'b.txt'), 'b\n');
    const s = await run(dir, 'text');
    await s.step(2);
    await writeFile(join(dir, 'a.txt'), 'a\n');
    await s.step(3);
    await s.ctx.stop();
    expect(s.batches).toEqual([[], ['b'], [], ['a'], []]);
  });

  it('does not read a half-written file until it is stable, then reads it whole', async () => {
    const s = await run<{ n: number }>(dir, 'ndjson');
    await writeFile(join(dir, 'x.ndjson'), '{"n":1}\n{"n":');
    await s.step();
    await appendFile(join(dir, 'x.ndjson'), '2}\n');
    await s.step();
    await s.step();
    await s.ctx.stop();
    expect(await s.failure()).toBeUndefined();
    expect(s.batches).toEqual([[], [], [{ n: 1 }, { n: 2 }]]);
  });

  it('ignores hidden, private and temporary names until a file is renamed into place', async () => {
    for (const name of ['.hidden', '_private', 'a.tmp', 'b.part', 'c.crdownload', 'd._COPYING_']) await writeFile(join(dir, name), `${name}\n`);
    await mkdir(join(dir, 'sub'));
    await writeFile(join(dir, 'sub', 'nested.txt'), 'nested\n');
    const s = await run(dir, 'text');
    await s.step(3);
    await rename(join(dir, 'a.tmp'), join(dir, 'a.txt'));
    await s.step(2);
    await s.ctx.stop();
    expect(s.batches).toEqual([[], [], [], [], ['a.tmp']]);
  });

  it('splits a big file across batches of maxRecordsPerBatch, with { file, line } ranges', async () => {
    await writeFile(join(dir, 'a'), Array.from({ length: 10 }, (_, i) => `a${i}\n`).join(''));
    await writeFile(join(dir, 'b'), 'b0\nb1\nb2\n');
    const s = await run(dir, 'text', { maxRecordsPerBatch: 4 });
    await s.step(6);
    await s.ctx.stop();
    expect(s.batches).toEqual([[], ['a0', 'a1', 'a2', 'a3'], ['a4', 'a5', 'a6', 'a7'], ['a8', 'a9', 'b0', 'b1'], ['b2'], []]);
    expect(s.progress.map((p) => [p.sources[0]?.startOffset, p.sources[0]?.endOffset])).toEqual([
      [{ file: 0, line: 0 }, { file: 0, line: 0 }],
      [{ file: 0, line: 0 }, { file: 0, line: 4 }],
      [{ file: 0, line: 4 }, { file: 0, line: 8 }],
      [{ file: 0, line: 8 }, { file: 1, line: 2 }],
      [{ file: 1, line: 2 }, { file: 2, line: 0 }],
      [{ file: 2, line: 0 }, { file: 2, line: 0 }],
    ]);
  });

  it('drains the files already taken on a graceful stop, and takes no new ones', async () => {
    await writeFile(join(dir, 'a'), 'a0\na1\na2\na3\na4\n');
    const s = await run(dir, 'text', { maxRecordsPerBatch: 2 });
    await s.step(2);
    await writeFile(join(dir, 'b'), 'b0\n');
    await s.step();
    await s.ctx.stop({ graceful: true });
    expect(s.batches).toEqual([[], ['a0', 'a1'], ['a2', 'a3'], ['a4']]);
  });

  it("fails the batch with BAD_RECORD naming file:line under the 'fail' policy", async () => {
    await writeFile(join(dir, 'bad.ndjson'), '{"ok":1}\nnot json\n');
    const s = await run(dir, 'ndjson');
    await s.step(2);
    const error = await s.failure();
    expect(error).toBeInstanceOf(SluiceError);
    expect(error).toMatchObject({ code: 'BAD_RECORD', source: 'files' });
    expect((error as Error).message).toContain(`${join(dir, 'bad.ndjson')}:2`);
    expect(s.batches).toEqual([[]]);
  });

  it("sends bad lines to deadLetters and counts them under the 'deadLetter' policy; good lines flow", async () => {
    await writeFile(join(dir, 'mixed.ndjson'), '{"n":1}\noops\n\n{"n":2}\n{bad');
    const dead: BadRecord[][] = [];
    const s = await run<{ n: number }>(dir, 'ndjson', { badRecords: 'deadLetter' }, (input) => {
      input.deadLetters.pipe(foreachBatch<BadRecord>((records) => void dead.push([...records])));
    });
    await s.step(2);
    await s.ctx.stop();
    expect(s.batches).toEqual([[], [{ n: 1 }, { n: 2 }]]);
    const path = join(dir, 'mixed.ndjson');
    expect(dead).toEqual([[], [expect.objectContaining({ source: 'files', raw: 'oops', location: `${path}:2` }), expect.objectContaining({ source: 'files', raw: '{bad', location: `${path}:5` })]]);
    expect(s.progress.map((p) => [p.numInputRecords, p.numBadRecords])).toEqual([[0, 0], [2, 2]]);
  });

  it('counts bad and blank lines towards maxRecords', async () => {
    await writeFile(join(dir, 'a.ndjson'), '1\nx\n\n2\n');
    const source = new DirectorySource<number>(dir, { format: 'json-values' });
    await source.latestOffset(source.initialOffset(), 2);
    const end = await source.latestOffset(source.initialOffset(), 2);
    expect(end).toEqual({ file: 0, line: 2 });
    expect(await source.read(source.initialOffset(), end)).toMatchObject({ records: [1], badRecords: [{ raw: 'x', location: `${join(dir, 'a.ndjson')}:2` }] });
    expect(await source.read(end, await source.latestOffset(end, 2))).toEqual({ records: [2], badRecords: [] });
  });

  it("takes only JSON objects as 'ndjson' records; validate turns the records it rejects into bad records with its message", async () => {
    await writeFile(join(dir, 'a.ndjson'), '{"n":1}\n[1]\n{"n":"2"}\n{"n":3}\n');
    const parseN = (value: unknown): { n: number } => {
      if (typeof (value as { n?: unknown }).n !== 'number') throw new TypeError('n must be a number');
      return value as { n: number };
    };
    const source = new DirectorySource(dir, { format: 'ndjson', validate: parseN });
    await source.latestOffset(source.initialOffset(), 10);
    const end = await source.latestOffset(source.initialOffset(), 10);
    const path = join(dir, 'a.ndjson');
    expect(await source.read(source.initialOffset(), end)).toEqual({
      records: [{ n: 1 }, { n: 3 }],
      badRecords: [
        { source: 'directory', raw: '[1]', reason: "an NDJSON record must be a JSON object, got an array (use format 'json-values' to take any JSON value)", location: `${path}:2` },
        { source: 'directory', raw: '{"n":"2"}', reason: 'n must be a number', location: `${path}:3` },
      ],
    });
  });

  it('gives the same records when a range is read again (replay determinism)', async () => {
    await writeFile(join(dir, 'a.ndjson'), '{"a":1}\n{"a":2}\n');
    await writeFile(join(dir, 'b.ndjson'), '{"b":1}\n');
    const source = new DirectorySource<object>(dir, { format: 'ndjson' });
    const start = source.initialOffset();
    expect(await source.latestOffset(start, 10)).toBe(start);
    const end = await source.latestOffset(start, 10);
    const first = await source.read(start, end);
    await appendFile(join(dir, 'a.ndjson'), '{"a":3}\n');
    const second = await source.read(start, end);
    expect(first.records).toEqual([{ a: 1 }, { a: 2 }, { b: 1 }]);
    expect(second).toEqual(first);
    expect(await source.read(start, { file: 0, line: 1 })).toEqual({ records: [{ a: 1 }], badRecords: [] });
    expect(await source.read({ file: 0, line: 1 }, end)).toEqual({ records: [{ a: 2 }, { b: 1 }], badRecords: [] });
  });

  it('reads every line once, in order, whatever the batch size (batching invariance)', async () => {
    const line = fc.stringMatching(/^[a-z ]{0,3}$/);
    const file = fc.record({ lines: fc.array(line, { maxLength: 6 }), trailingNewline: fc.boolean() });
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(file, { maxLength: 5 }), fc.integer({ min: 1, max: 7 }), async (files, max) => {
        const sub = join(dir, `run-${runs++}`);
        await mkdir(sub);
        // Without a trailing newline, a blank last line leaves the text ending in '\n' (or empty): no line.
        const expected = files.flatMap((f) => (!f.trailingNewline && f.lines.at(-1) === '' ? f.lines.slice(0, -1) : f.lines));
        await Promise.all(files.map((f, i) => writeFile(join(sub, `f${String(i).padStart(2, '0')}`), f.lines.join('\n') + (f.trailingNewline && f.lines.length > 0 ? '\n' : ''))));
        const batches = await drain(new DirectorySource(sub), max);
        expect(batches.flat()).toEqual(expected);
        expect(batches.slice(0, -1).every((b) => b.length === max)).toBe(true);
      }),
      { numRuns: 40 },
    );
  });

  it('strips CR before LF and counts a last line without a newline', async () => {
    await writeFile(join(dir, 'a.txt'), 'a\r\nb\r\n\r\nc');
    await writeFile(join(dir, 'b.ndjson'), '{"x":1}\r\n{"x":2}');
    expect(await drain(new DirectorySource(join(dir)), 100)).toEqual([['a', 'b', '', 'c', '{"x":1}', '{"x":2}']]);
    await rm(join(dir, 'a.txt'));
    expect((await drain(new DirectorySource<object>(dir, { format: 'ndjson' }), 100)).flat()).toEqual([{ x: 1 }, { x: 2 }]);
  });

  it('reads a missing directory as empty until it exists', async () => {
    const later = join(dir, 'later');
    const s = await run(later, 'text');
    await s.step(2);
    await mkdir(later);
    await writeFile(join(later, 'a.txt'), 'a\n');
    await s.step(2);
    await s.ctx.stop();
    expect(await s.failure()).toBeUndefined();
    expect(s.batches).toEqual([[], [], [], ['a']]);
  });

  it('fails with SOURCE_FAILED when the path is not a directory', async () => {
    const file = join(dir, 'plain.txt');
    await writeFile(file, 'x\n');
    await expect(new DirectorySource(file).latestOffset({ file: 0, line: 0 }, 10)).rejects.toThrow(/is not a directory/);
    const s = await run(file, 'text');
    await s.step();
    const error = await s.failure();
    expect(error).toMatchObject({ code: 'SOURCE_FAILED', source: 'files' });
    expect((error as Error).message).toMatch(/is not a directory/);
  });

  it('does not read a file again after it changes, and warns once', async () => {
    const warn = vi.fn();
    const logger = { warn, info: vi.fn() } as unknown as Logger;
    const source = new DirectorySource(dir);
    await source.start({ clock: new ManualClock(), logger, name: 'files' });
    await writeFile(join(dir, 'a.txt'), 'a1\n');
    expect(await drain(source, 10)).toEqual([['a1']]);
    await appendFile(join(dir, 'a.txt'), 'a2\n');
    const end: Offset = { file: 1, line: 0 };
    expect(await source.latestOffset(end, 10)).toBe(end);
    expect(await source.latestOffset(end, 10)).toBe(end);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]?.[0]).toMatchObject({ file: join(dir, 'a.txt'), takenSize: 3, size: 6 });
  });

  it('rejects offsets it never reported', async () => {
    const source = new DirectorySource(dir);
    await expect(source.read({ file: 0, line: 0 }, { file: 2, line: 0 })).rejects.toThrow(RangeError);
    await expect(source.read(0, 1)).rejects.toThrow(RangeError);
  });
});
