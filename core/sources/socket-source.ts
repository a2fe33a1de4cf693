import { connect, type Socket } from 'node:net';
import type { Cancel } from '../clock/clock.js';
import { parseDuration, type DurationLike } from '../time.js';
import { lineParser, parseLines, type LineRecordOptions } from './line-format.js';
import { LineSplitter } from './line-splitter.js';
import { ReceivedLines } from './received-lines.js';
import { countOffset } from './record-buffer.js';
import type { Offset, Source, SourceEnvironment, SourceRead } from './source.js';

/** Options of {@link SocketSource}. */
export interface SocketSourceOptions<T> extends LineRecordOptions<T> {
  /** Milliseconds of clock time between a failed or closed connection and the next attempt (default 1000). */
  readonly reconnectDelay?: DurationLike;
  /** The encoding of the received bytes (default `'utf8'`). */
  readonly encoding?: BufferEncoding;
  /**
   * The longest line kept, in bytes of the encoding, without its newline (default 1 MiB,
   * 1 048 576). A longer line is a bad record whose `raw` holds its beginning (1024 characters,
   * or what arrived before it passed a smaller `maxLineLength`) and whose reason gives its
   * length; the rest of it is discarded as it arrives, never buffered.
   */
  readonly maxLineLength?: number;
  /**
   * Received but uncommitted lines above which the socket is paused (default 100 000); it is
   * resumed once commits bring them down to half of this.
   */
  readonly highWaterMark?: number;
  /**
   * Bytes of received but uncommitted lines above which the socket is paused (default 64 MiB,
   * 67 108 864); it is resumed once commits bring them down to half of this.
   */
  readonly maxBufferedBytes?: number;
}

/**
 * Spark's `socketTextStream`: a TCP client that connects to `host:port` and turns the
 * newline-delimited text it receives into records, one per line (the other end can be
 * `nc -lk 9999`). Lines may span TCP chunks; a trailing `'\r'` is dropped; a partial last line is
 * emitted when the connection closes. A failed or closed connection is logged at warn and retried
 * every `reconnectDelay` ms of clock time until the source stops receiving.
 *
 * Offsets count the lines received since start. Lines that do not parse (NDJSON or a custom
 * format), records that `validate` rejects and lines longer than `maxLineLength` are returned as
 * bad records located at `host:port#lineNumber`, and follow the source's `badRecords` policy.
 *
 * **Memory.** The source holds the lines it received until their batch commits (they are its
 * replay buffer), and they are bounded: when more than `highWaterMark` lines (default 100 000) or
 * more than `maxBufferedBytes` bytes of lines (default 64 MiB) wait for a commit, counting lines
 * still on their way to the write-ahead log, the source stops reading from the socket. The kernel's
 * receive buffer then fills and TCP flow control makes the sender wait; nothing is dropped.
 * Reading resumes once commits bring both below half of their bound. The bounds are checked after
 * each read from the socket, so they can be passed by one read (64 KiB at most) plus one line.
 * An unfinished line holds at most `maxLineLength` bytes (default 1 MiB): the rest of a longer
 * line is discarded as it arrives. A sender faster than the job is therefore slowed to the job's
 * pace rather than growing the process; in a checkpointed context that has the same effect when
 * the write-ahead log falls behind.
 *
 * @example
 * const lines = ctx.source(new SocketSource('localhost', 9999), { name: 'lines' });
 * lines.pipe(flatMap((l: string) => l.split(' ')), mapToPair((w) => [w, 1]), reduceByKey((a, b) => a + b), print());
 */
export class SocketSource<T = string> implements Source<T> {
  readonly kind = 'socket';
  /**
   * Replayable when the context is checkpointed: received lines are then written to the
   * checkpoint's write-ahead log before they join a batch. Otherwise they live only in memory
   * until committed, and a restart cannot read them again.
   */
  get replayable(): boolean {
    return this.#lines.durable;
  }
  /** The host connected to. */
  readonly host: string;
  /** The port connected to. */
  readonly port: number;
  readonly #parse: (line: string) => T;
  readonly #skipBlank: boolean;
  readonly #reconnectDelay: number;
  readonly #encoding: BufferEncoding;
  readonly #maxLineLength: number;
  readonly #highWaterMark: number;
  readonly #maxBufferedBytes: number;
  readonly #lines = new ReceivedLines();
  #committed = 0;
  #env: SourceEnvironment | undefined;
  #socket: Socket | undefined;
  #paused = false;
  #receiving = false;
  #cancelReconnect: Cancel | undefined;
  #settleStart: (() => void) | undefined;

  /**
   * @param host - the host name or address to connect to.
   * @param port - the TCP port, an integer from 1 to 65535.
   * @param options - see {@link SocketSourceOptions}.
   * @throws TypeError for an empty host, a port that is not a number, an unknown encoding or
   * format, or a `validate` that is not a function.
   * @throws RangeError for a port out of range, a negative `reconnectDelay`, or a `maxLineLength`,
   * `highWaterMark` or `maxBufferedBytes` that is not a positive integer.
   */
  constructor(host: string, port: number, options: SocketSourceOptions<T> = {}) {
    if (typeof host !== 'string' || host.trim() === '') {
      throw new TypeError(`SocketSource: host must be a non-empty string such as 'localhost', got ${JSON.stringify(host)}.`);
    }
    if (typeof port !== 'number') throw new TypeError(`SocketSource: port must be a number, got ${typeof port}.`);
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      throw new RangeError(`SocketSource: port must be an integer from 1 to 65535, got ${port}.`);
    }
    const { format = 'text', reconnectDelay = 1000, encoding = 'utf8' } = options;
    const { maxLineLength = 1 << 20, highWaterMark = 100_000, maxBufferedBytes = 64 << 20 } = options;
    for (const [name, value] of Object.entries({ maxLineLength, highWaterMark, maxBufferedBytes })) {
      if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`SocketSource: ${name} must be a positive integer, got ${value}.`);
    }
    if (typeof encoding !== 'string' || !Buffer.isEncoding(encoding)) {
      throw new TypeError(`SocketSource: encoding must be a Node.js buffer encoding such as 'utf8', got ${JSON.stringify(encoding)}.`);
    }
    this.host = host;
    this.port = port;
    this.#parse = lineParser(format, options.validate);
    this.#skipBlank = format !== 'text';
    this.#reconnectDelay = parseDuration(reconnectDelay, 'SocketSource reconnectDelay');
    this.#encoding = encoding;
    this.#maxLineLength = maxLineLength;
    this.#highWaterMark = highWaterMark;
    this.#maxBufferedBytes = maxBufferedBytes;
  }

  /** The number of lines received since start (the offset after the last one). */
  get received(): number {
    return this.#lines.end;
  }

  /**
   * What the source holds now: the lines received and not yet committed, their bytes, and whether
   * reading from the socket is paused because they passed `highWaterMark` or `maxBufferedBytes`.
   */
  get buffered(): { readonly lines: number; readonly bytes: number; readonly paused: boolean } {
    return { lines: this.#lines.bufferedLines, bytes: this.#lines.bufferedBytes, paused: this.#paused };
  }

  /**
   * Connects. Resolves once the first attempt has connected or failed; a failure is retried, so
   * a server that is not up yet does not fail the start.
   *
   * @param env - the context's clock (for reconnect timers), logger and the source's name.
   * @throws TypeError when the source was already started.
   */
  async start(env: SourceEnvironment): Promise<void> {
    if (this.#env !== undefined) throw new TypeError(`SocketSource ${this.host}:${this.port} was already started; create one source per context.`);
    this.#env = env;
    if (env.writeAheadLog !== undefined) {
      await this.#lines.attach(env.writeAheadLog);
      this.#committed = this.#lines.end;
    }
    this.#receiving = true;
    const settled = new Promise<void>((resolve) => (this.#settleStart = resolve));
    this.#connect(env);
    await settled;
  }

  initialOffset(): Offset {
    return 0;
  }

  latestOffset(start: Offset, maxRecords: number): Offset {
    this.#lines.check();
    return Math.min(this.#lines.end, countOffset(start, 'socket') + maxRecords);
  }

  async read(start: Offset, end: Offset): Promise<SourceRead<T>> {
    const from = countOffset(start, 'socket');
    const lines = await this.#lines.read(from, countOffset(end, 'socket'));
    const where = `${this.host}:${this.port}#`;
    return parseLines(lines, this.#parse, this.#env?.name ?? this.kind, this.#skipBlank, (i) => `${where}${from + i + 1}`);
  }

  commit(end: Offset): void {
    this.#committed = Math.max(this.#committed, countOffset(end, 'socket'));
    this.#lines.discardBefore(this.#committed);
    if (this.#paused && this.#lines.bufferedLines <= this.#highWaterMark / 2 && this.#lines.bufferedBytes <= this.#maxBufferedBytes / 2) {
      this.#paused = false;
      this.#socket?.resume();
      this.#env?.logger.debug(this.buffered, 'socket source resumed');
    }
  }

  /** Stops reconnecting and closes the connection gracefully; lines received so far stay readable. */
  async stopReceiving(): Promise<void> {
    await this.#close(true);
    await this.#lines.flushed();
  }

  /** Closes the connection at once and cancels any pending reconnect. */
  stop(): Promise<void> {
    return this.#close(false);
  }

  async #close(graceful: boolean): Promise<void> {
    this.#receiving = false;
    this.#cancelReconnect?.();
    this.#cancelReconnect = undefined;
    const socket = this.#socket;
    if (socket === undefined) return;
    const closed = new Promise<void>((resolve) => {
      socket.once('close', () => {
        resolve();
      });
    });
    // Destroyed once our FIN is sent, so a peer that keeps its side open cannot keep a drain going.
    if (graceful && !socket.connecting) {
      socket.end(() => {
        socket.destroy();
      });
    } else {
      socket.destroy();
    }
    await closed;
  }

  #connect(env: SourceEnvironment): void {
    const socket = connect({ host: this.host, port: this.port });
    const splitter = new LineSplitter(this.#encoding, this.#maxLineLength);
    // Lines of one chunk are received together (one write-ahead log append per chunk).
    let chunkLines: string[] = [];
    let chunkBytes = 0;
    const onLine = (line: string, bytes: number): void => {
      chunkLines.push(line);
      chunkBytes += bytes;
    };
    const receive = (): void => {
      this.#lines.add(chunkLines, chunkBytes);
      chunkLines = [];
      chunkBytes = 0;
    };
    let connected = false;
    let failure: Error | undefined;
    this.#socket = socket;
    this.#paused = false;
    socket.on('connect', () => {
      connected = true;
      env.logger.info({ host: this.host, port: this.port }, 'socket source connected');
      this.#applyBackpressure(socket);
      this.#startSettled();
    });
    socket.on('data', (chunk: Buffer) => {
      splitter.write(chunk, onLine);
      receive();
      this.#applyBackpressure(socket);
    });
    socket.on('error', (error) => {
      failure = error;
    });
    socket.on('close', () => {
      splitter.end(onLine);
      receive();
      if (this.#socket === socket) this.#socket = undefined;
      this.#startSettled();
      if (!this.#receiving) return;
      const what = !connected ? 'could not connect' : failure === undefined ? 'connection closed by the server' : 'connection lost';
      env.logger.warn({ host: this.host, port: this.port, err: failure, retryInMs: this.#reconnectDelay }, `socket source ${what}; reconnecting`);
      this.#cancelReconnect = env.clock.schedule(env.clock.now() + this.#reconnectDelay, () => {
        this.#cancelReconnect = undefined;
        if (this.#receiving) this.#connect(env);
      });
    });
  }

  #applyBackpressure(socket: Socket): void {
    if (this.#paused || (this.#lines.bufferedLines <= this.#highWaterMark && this.#lines.bufferedBytes <= this.#maxBufferedBytes)) return;
    this.#paused = true;
    socket.pause();
    this.#env?.logger.debug(this.buffered, 'socket source paused until commits drain it');
  }

  #startSettled(): void {
    this.#settleStart?.();
    this.#settleStart = undefined;
  }
}
