import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { expectTypeOf } from 'vitest';
import { foreachBatch, ManualClock, SluiceError, SocketSource, StreamingContext, type BadRecord, type InputOptions, type SocketSourceOptions } from 'sluice';
import { LineServer } from '../../support/line-server.js';
import { until } from '../../support/until.js';

const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A {@link LineServer}, closed after the test. */
async function listen(port = 0): Promise<LineServer> {
  const server = await LineServer.listen(port);
  cleanups.push(() => server.close());
  return server;
}

/** A port nothing listens on (a server that is not up yet). */
async function freePort(): Promise<number> {
  const server = await LineServer.listen();
  const port = server.port;
  await server.close();
  return port;
}

interface Harness<T> {
  readonly ctx: StreamingContext;
  readonly clock: ManualClock;
  readonly source: SocketSource<T>;
  readonly batches: T[][];
  readonly deadLetters: BadRecord[];
  readonly logs: { level: number; msg: string }[];
  /** Waits until the source has received `n` lines in total. */
  readonly received: (n: number) => Promise<void>;
}

function harness<T = string>(port: number, options: SocketSourceOptions<T> = {}, input: InputOptions = {}): Harness<T> {
  const clock = new ManualClock();
  const logs: { level: number; msg: string }[] = [];
  const sink = { write: (line: string): void => void logs.push(JSON.parse(line) as { level: number; msg: string }) };
  const ctx = new StreamingContext({ batchInterval: 1000, clock, logger: pino({ level: 'info' }, sink) });
  cleanups.push(() => ctx.stop());
  const source = new SocketSource<T>('127.0.0.1', port, options);
  const stream = ctx.source(source, { name: 'socket', ...input });
  const batches: T[][] = [];
  const deadLetters: BadRecord[] = [];
  stream.pipe(foreachBatch((records) => void batches.push([...records])));
  if (input.badRecords === 'deadLetter') stream.deadLetters.pipe(foreachBatch((records) => void deadLetters.push(...records)));
  const received = (n: number): Promise<void> => until(() => source.received >= n, `${n} lines`);
  return { ctx, clock, source, batches, deadLetters, logs, received };
}

const warnings = (logs: readonly { level: number }[]): number => logs.filter((l) => l.level === 40).length;

describe('SocketSource', () => {
  it('delivers received lines in order, one batch per interval', async () => {
    const server = await listen();
    const { ctx, clock, batches, received } = harness(server.port);
    await ctx.start();
    const peer = await server.connection();
    peer.write('a\nb\n');
    await received(2);
    await clock.advance(1000);
    peer.write('c\n\n');
    await received(4);
    await clock.advance(1000);
    await clock.advance(1000);
    expect(batches).toEqual([['a', 'b'], ['c', ''], []]);
  });

  it('joins a line split across writes and drops the trailing carriage return', async () => {
    const server = await listen();
    const { ctx, clock, batches, received } = harness(server.port);
    await ctx.start();
    const peer = await server.connection();
    peer.write('first\nsec');
    await received(1);
    peer.write('ond\r');
    peer.write('\nthird\r\n');
    await received(3);
    await clock.advance(1000);
    expect(batches).toEqual([['first', 'second', 'third']]);
  });

  it('decodes a multibyte character split across writes', async () => {
    const server = await listen();
    const { ctx, clock, batches, received } = harness(server.port);
    await ctx.start();
    const peer = await server.connection();
    const cafe = Buffer.from('café ☕\n');
    peer.write(Buffer.concat([Buffer.from('x\n'), cafe.subarray(0, 4)]));
    await received(1);
    peer.write(cafe.subarray(4, 7));
    // Not needed for correctness: only makes separate TCP chunks likely.
    await new Promise((resolve) => setTimeout(resolve, 5));
    peer.write(cafe.subarray(7));
    await received(2);
    await clock.advance(1000);
    expect(batches).toEqual([['x', 'café ☕']]);
  });

  it('spreads lines over batches with maxRecordsPerBatch', async () => {
    const server = await listen();
    const { ctx, clock, batches, received } = harness(server.port, {}, { maxRecordsPerBatch: 2 });
    await ctx.start();
    (await server.connection()).write('a\nb\nc\nd\ne\n');
    await received(5);
    await clock.advance(4000);
    expect(batches).toEqual([['a', 'b'], ['c', 'd'], ['e'], []]);
  });

  it('starts while the server is down, warns once per failed attempt and connects on a later retry', async () => {
    const port = await freePort();
    const { ctx, clock, batches, logs, received } = harness(port, { reconnectDelay: '500ms' });
    await ctx.start();
    expect(warnings(logs)).toBe(1);
    await clock.advance(500);
    await until(() => warnings(logs) === 2, 'the second failed attempt');
    const server = await listen(port);
    await clock.advance(500);
    const peer = await server.connection();
    peer.write('up\n');
    await received(1);
    await clock.advance(1000);
    expect(batches.flat()).toEqual(['up']);
    expect(warnings(logs)).toBe(2);
  });

  it('reconnects after the server closes the connection and keeps the lines of both', async () => {
    const server = await listen();
    const { ctx, clock, batches, logs, received } = harness(server.port);
    await ctx.start();
    (await server.connection(1)).end('a\npartial');
    await received(2);
    expect(warnings(logs)).toBe(1);
    await clock.advance(1000);
    const second = await server.connection(2);
    second.write('b\n');
    await received(3);
    await clock.advance(1000);
    expect(batches).toEqual([['a', 'partial'], ['b']]);
  });

  it('pauses the socket above highWaterMark and resumes on commit', async () => {
    const server = await listen();
    const { ctx, clock, source, batches, received } = harness(server.port, { highWaterMark: 2 });
    await ctx.start();
    const peer = await server.connection();
    peer.write('a\nb\nc\n');
    await received(3);
    expect(source.buffered).toEqual({ lines: 3, bytes: 3, paused: true });
    peer.write('d\n');
    await clock.advance(1000);
    await received(4);
    await clock.advance(1000);
    expect(batches).toEqual([['a', 'b', 'c'], ['d']]);
  });

  it('resumes reading only once commits bring the held lines down to half of highWaterMark', async () => {
    const server = await listen();
    const { ctx, clock, source, batches, received } = harness(server.port, { highWaterMark: 4 }, { maxRecordsPerBatch: 2 });
    await ctx.start();
    const peer = await server.connection();
    peer.write('a\nb\nc\nd\ne\n');
    await received(5);
    expect(source.buffered.paused).toBe(true);
    peer.write('f\n');
    await clock.advance(1000);
    expect(source.buffered).toMatchObject({ lines: 3, paused: true });
    await clock.advance(1000);
    expect(source.buffered.paused).toBe(false);
    await received(6);
    await clock.advance(2000);
    expect(batches).toEqual([['a', 'b'], ['c', 'd'], ['e', 'f'], []]);
  });

  it('pauses the socket above maxBufferedBytes of held lines and resumes once commits drain them', async () => {
    const server = await listen();
    const { ctx, clock, source, batches, received } = harness(server.port, { maxBufferedBytes: 8 });
    await ctx.start();
    const peer = await server.connection();
    peer.write('aaaa\nbbbb\ncccc\n');
    await received(3);
    expect(source.buffered).toEqual({ lines: 3, bytes: 12, paused: true });
    peer.write('ddd\n');
    await clock.advance(1000);
    expect(source.buffered.paused).toBe(false);
    await received(4);
    expect(source.buffered).toEqual({ lines: 1, bytes: 3, paused: false });
    await clock.advance(1000);
    expect(batches).toEqual([['aaaa', 'bbbb', 'cccc'], ['ddd']]);
    expect(source.buffered).toEqual({ lines: 0, bytes: 0, paused: false });
  });

  it('turns a line longer than maxLineLength bytes into a bad record with its beginning and length, and keeps the lines around it', async () => {
    const server = await listen();
    const port = server.port;
    const { ctx, clock, batches, deadLetters, received } = harness(port, { maxLineLength: 4 }, { badRecords: 'deadLetter' });
    const progress: number[] = [];
    ctx.addListener((event) => {
      if (event.type === 'batchCompleted') progress.push(event.progress.numBadRecords);
    });
    await ctx.start();
    const peer = await server.connection();
    // 'éé' is 4 bytes in UTF-8, 'ééé' 6; the long line arrives in pieces.
    peer.write('abcd\néé\nabc');
    await received(2);
    peer.write('de');
    peer.write('fgh\r\nééé\nok\n');
    await received(5);
    await clock.advance(1000);
    expect(batches).toEqual([['abcd', 'éé', 'ok']]);
    expect(deadLetters).toEqual([
      { source: 'socket', raw: 'abcdefgh\r', reason: 'the line is 9 bytes long, more than maxLineLength (4 bytes); its beginning is kept (in raw), the rest was discarded unread', location: `127.0.0.1:${port}#3` },
      { source: 'socket', raw: 'ééé', reason: expect.stringContaining('the line is 6 bytes long') as string, location: `127.0.0.1:${port}#4` },
    ]);
    expect(progress).toEqual([2]);
  });

  it("fails the batch with BAD_RECORD naming maxLineLength under badRecords: 'fail'", async () => {
    const server = await listen();
    const { ctx, clock, received } = harness(server.port, { maxLineLength: 2 });
    await ctx.start();
    (await server.connection()).write('ok\ntoo long\n');
    await received(2);
    await clock.advance(1000);
    await expect(ctx.awaitTermination()).rejects.toMatchObject({ code: 'BAD_RECORD', message: expect.stringMatching(/#2\): the line is 8 bytes long, more than maxLineLength \(2 bytes\)/) as unknown });
  });

  it("takes only JSON objects as NDJSON records, any JSON value with 'json-values'", async () => {
    const server = await listen();
    const input = '{"a":1}\nnull\n42\n"s"\n[1,2]\ntrue\n';
    const ndjson = harness<unknown>(server.port, { format: 'ndjson' }, { name: 'objects', badRecords: 'deadLetter' });
    await ndjson.ctx.start();
    (await server.connection(1)).write(input);
    await ndjson.received(6);
    await ndjson.clock.advance(1000);
    expect(ndjson.batches).toEqual([[{ a: 1 }]]);
    expect(ndjson.deadLetters.map((bad) => [bad.raw, bad.reason])).toEqual(
      ['null', 'a number', 'a string', 'an array', 'a boolean'].map((what, i) => [
        input.split('\n')[i + 1],
        `an NDJSON record must be a JSON object, got ${what === 'null' ? 'null' : what} (use format 'json-values' to take any JSON value)`,
      ]),
    );

    const values = harness<unknown>(server.port, { format: 'json-values' }, { name: 'values', badRecords: 'deadLetter' });
    await values.ctx.start();
    (await server.connection(2)).write(input);
    await values.received(6);
    await values.clock.advance(1000);
    expect(values.batches).toEqual([[{ a: 1 }, null, 42, 's', [1, 2], true]]);
    expect(values.deadLetters).toEqual([]);
  });

  it('turns records that validate rejects into bad records with its message, and types the source by it', async () => {
    interface Point {
      readonly x: number;
      readonly y: number;
    }
    const isPoint = (value: unknown): value is Point => typeof (value as Point).x === 'number' && typeof (value as Point).y === 'number';
    const parsePoint = (value: unknown): Point => {
      if (!isPoint(value)) throw new TypeError('x and y must be numbers');
      return { x: value.x, y: value.y };
    };
    expectTypeOf(new SocketSource('localhost', 9999, { format: 'ndjson', validate: isPoint })).toEqualTypeOf<SocketSource<Point>>();
    expectTypeOf(new SocketSource('localhost', 9999, { format: 'ndjson', validate: parsePoint })).toEqualTypeOf<SocketSource<Point>>();
    const server = await listen();
    const input = '{"x":1,"y":2}\n{"x":"1","y":2}\n{"x":3,"y":4,"z":5}\n';
    for (const [n, validate, reason] of [
      [1, isPoint, 'rejected by validate (isPoint)'],
      [2, parsePoint, 'x and y must be numbers'],
    ] as const) {
      const h = harness<Point>(server.port, { format: 'ndjson', validate }, { name: `points-${n}`, badRecords: 'deadLetter' });
      await h.ctx.start();
      (await server.connection(n)).write(input);
      await h.received(3);
      await h.clock.advance(1000);
      expect(h.batches).toEqual([[{ x: 1, y: 2 }, n === 1 ? { x: 3, y: 4, z: 5 } : { x: 3, y: 4 }]]);
      expect(h.deadLetters).toEqual([{ source: `points-${n}`, raw: '{"x":"1","y":2}', reason, location: `127.0.0.1:${server.port}#2` }]);
    }
  });

  it("fails the batch with BAD_RECORD for a bad NDJSON line under badRecords: 'fail'", async () => {
    const server = await listen();
    const port = server.port;
    const { ctx, clock, received } = harness<unknown>(port, { format: 'ndjson' });
    await ctx.start();
    (await server.connection()).write('{"a":1}\n\nnot json\n');
    await received(3);
    await clock.advance(1000);
    const error = await ctx.awaitTermination().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SluiceError);
    expect((error as SluiceError).code).toBe('BAD_RECORD');
    expect((error as SluiceError).message).toContain(`127.0.0.1:${port}#3`);
  });

  it("routes a bad NDJSON line to deadLetters under badRecords: 'deadLetter'", async () => {
    const server = await listen();
    const port = server.port;
    const { ctx, clock, batches, deadLetters, received } = harness<unknown>(port, { format: 'ndjson' }, { badRecords: 'deadLetter' });
    await ctx.start();
    (await server.connection()).write('{"a":1}\nnot json\n{"a":2}\n');
    await received(3);
    await clock.advance(1000);
    expect(batches).toEqual([[{ a: 1 }, { a: 2 }]]);
    expect(deadLetters).toEqual([{ source: 'socket', raw: 'not json', reason: expect.any(String) as string, location: `127.0.0.1:${port}#2` }]);
  });

  it('drains received lines, including a partial last line, on a graceful stop', async () => {
    const server = await listen();
    const { ctx, clock, batches, received } = harness(server.port, {}, { maxRecordsPerBatch: 2 });
    await ctx.start();
    const peer = await server.connection();
    const peerEnded = new Promise((resolve) => peer.once('end', resolve));
    peer.resume();
    peer.write('a\nb\nc\nd');
    await received(3);
    await ctx.stop({ graceful: true });
    await ctx.awaitTermination();
    expect(batches).toEqual([['a', 'b'], ['c', 'd']]);
    await peerEnded;
    await clock.advance(10_000);
    expect(server.connections).toHaveLength(1);
  });

  it('stops reconnecting once stopped', async () => {
    const port = await freePort();
    const { ctx, clock, logs } = harness(port);
    await ctx.start();
    await ctx.stop();
    const server = await listen(port);
    await clock.advance(5000);
    expect(server.connections).toHaveLength(0);
    expect(warnings(logs)).toBe(1);
  });

  it('rejects bad arguments with a clear error', () => {
    expect(() => new SocketSource('', 9999)).toThrow(TypeError);
    expect(() => new SocketSource(42 as unknown as string, 9999)).toThrow(/host must be a non-empty string/);
    expect(() => new SocketSource('localhost', '9999' as unknown as number)).toThrow(TypeError);
    for (const port of [0, 65536, 1.5, Number.NaN, -1]) {
      expect(() => new SocketSource('localhost', port)).toThrow(RangeError);
    }
    expect(() => new SocketSource('localhost', 0)).toThrow(/integer from 1 to 65535, got 0/);
    expect(() => new SocketSource('localhost', 9999, { reconnectDelay: -1 })).toThrow(RangeError);
    expect(() => new SocketSource('localhost', 9999, { highWaterMark: 0 })).toThrow(RangeError);
    expect(() => new SocketSource('localhost', 9999, { maxLineLength: 0 })).toThrow(/maxLineLength must be a positive integer, got 0/);
    expect(() => new SocketSource('localhost', 9999, { maxBufferedBytes: 1.5 })).toThrow(RangeError);
    expect(() => new SocketSource('localhost', 9999, { validate: 'yes' as unknown as () => true })).toThrow(TypeError);
    expect(() => new SocketSource('localhost', 9999, { encoding: 'klingon' as BufferEncoding })).toThrow(TypeError);
    expect(() => new SocketSource('localhost', 9999, { format: 'csv' as 'text' })).toThrow(TypeError);
  });

  it('is a non-replayable count-offset source', () => {
    const source = new SocketSource('localhost', 9999);
    expect(source.kind).toBe('socket');
    expect(source.replayable).toBe(false);
    expect(source.initialOffset()).toBe(0);
    expect(source.latestOffset(0, 10)).toBe(0);
  });
});
