import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SocketSource, StreamingContext, flatMap, foreachBatch, mapToPair, reduceByKey } from 'sluice';
import { fileSink, getOrCreate } from 'sluice/checkpoint';

/** Some text to count: a few lines, repeated. */
export const TEXT: readonly string[] = [
  'the quick brown fox jumps over the lazy dog',
  'The dog barks, and the fox runs!',
  'a stream is a sequence of small batches',
  'each batch is counted; the counts are added up',
];

/** The lines the example's server sends: {@link TEXT} `times` times over. */
export function textLines(times: number): string[] {
  return Array.from({ length: times }, () => TEXT).flat();
}

/** A word as counted: lower case, letters and digits only. */
export function words(line: string): string[] {
  return line.toLowerCase().split(/[^a-z0-9']+/).filter((w) => w !== '');
}

/**
 * A tiny TCP server on 127.0.0.1 (a free port) standing in for `nc -lk 9999`: the first client
 * gets `lines` (40 every 30 ms), and every connection stays open until the server is closed.
 */
export async function serveLines(lines: readonly string[]): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  let sent = false;
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    if (!sent) {
      sent = true;
      // A chunk of lines every 30 ms, so the text spreads over several batches.
      const send = (from: number): void => {
        if (socket.destroyed || from >= lines.length) return;
        socket.write(lines.slice(from, from + 40).map((l) => `${l}\n`).join(''));
        setTimeout(() => {
          send(from + 40);
        }, 30);
      };
      send(0);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => {
          resolve();
        });
      }),
  };
}

/** Options of {@link runWordCount}. */
export interface WordCountOptions {
  /** How many times the text is sent (default 50). */
  readonly times?: number;
  readonly batchInterval?: string | number;
  /**
   * Connect to a server already listening on 127.0.0.1:`port` instead of starting one. It must
   * send the lines of `textLines(times)` from the one the job's `started` line says it has
   * received up to: a resumed job has the earlier ones in its checkpoint.
   */
  readonly port?: number;
  /**
   * Where the checkpoint (`checkpoint/`) and the counts (`counts/`, one file per batch) go
   * (default: a temporary directory, removed afterwards). Run again on the same directory to
   * resume a stopped or killed run.
   */
  readonly outDir?: string;
  /** Stop gracefully on SIGTERM or SIGINT (`ctx.stopOnSignals()`), to be resumed on `outDir` (default false). */
  readonly stopOnSignals?: boolean;
  /** Where progress lines go (default: nowhere). */
  readonly log?: (line: string) => void;
}

/** What the job counted. */
export interface WordCountResult {
  /** Every word with its total count in the sink (this run's and the runs' it resumed), sorted by word. */
  readonly totals: readonly (readonly [string, number])[];
  /** The lines to count. */
  readonly lines: readonly string[];
  /** Batches this run completed (replayed ones included). */
  readonly batches: number;
  /** Whether the job read every line (false when a signal stopped it first). */
  readonly finished: boolean;
}

/**
 * The classic: word count over a socket. Starts a server sending the text (unless `port` names
 * one), reads it with a `SocketSource` (what `socketTextStream` makes), counts words per batch with
 * `reduceByKey` and writes each batch's counts exactly once to a file sink; the totals are the sum
 * of those files. The context is checkpointed, so the source writes the lines it receives to its
 * write-ahead log before a batch reads them: stopped or killed, the job started again on the same
 * `outDir` recounts nothing and loses no line it had received. Stops once every line has been read.
 */
export async function runWordCount(options: WordCountOptions = {}): Promise<WordCountResult> {
  const log = options.log ?? (() => undefined);
  const lines = textLines(options.times ?? 50);
  const server = options.port === undefined ? await serveLines(lines) : undefined;
  const port = server?.port ?? options.port ?? 0;
  const outDir = options.outDir ?? (await mkdtemp(join(tmpdir(), 'sluice-words-')));
  try {
    let source: SocketSource | undefined;
    const ctx = await getOrCreate(join(outDir, 'checkpoint'), (checkpoint) => {
      const c = new StreamingContext({ batchInterval: options.batchInterval ?? '200ms', checkpoint });
      source = new SocketSource('127.0.0.1', port, { reconnectDelay: '100ms' });
      const counts = c.source(source, { name: 'text' }).pipe(
        flatMap(words),
        mapToPair((word) => [word, 1]),
        reduceByKey((a, b) => a + b),
      );
      counts.pipe(fileSink<readonly [string, number]>(join(outDir, 'counts'), { name: 'counts-sink' }));
      counts.pipe(
        foreachBatch((batch, { batchId }) => {
          if (batch.length === 0) return;
          const top = [...batch].sort(([a, x], [b, y]) => y - x || a.localeCompare(b)).slice(0, 5);
          log(`batch ${batchId}: ${batch.length} distinct words; top ${top.map(([w, n]) => `${w}=${n}`).join(' ')}`);
        }),
      );
      return c;
    });
    // Stop once a batch has read the last line, but only once start() has returned (its replays
    // complete batches too).
    let batches = 0;
    let drained = false;
    let started = false;
    let finished = false;
    const stopWhenDone = (): void => {
      if (started && drained && !finished) {
        finished = true;
        void ctx.stop({ graceful: true });
      }
    };
    ctx.addListener((event) => {
      if (event.type !== 'batchCompleted') return;
      batches++;
      const end = event.progress.sources[0]?.endOffset;
      drained ||= typeof end === 'number' && end >= lines.length;
      stopWhenDone();
    });
    await ctx.start();
    if (options.stopOnSignals === true) ctx.stopOnSignals();
    log(`started: ${source?.received ?? 0} lines received before${options.stopOnSignals === true ? '; SIGTERM or SIGINT stops the job gracefully' : ''}`);
    started = true;
    stopWhenDone();
    await ctx.awaitTermination();
    return { totals: await readWordTotals(outDir), lines, batches, finished };
  } finally {
    await server?.close();
    if (options.outDir === undefined) await rm(outDir, { recursive: true, force: true });
  }
}

/** The total count of every word a run on `outDir` wrote (the sum of its batch files), sorted by word. */
export async function readWordTotals(outDir: string): Promise<[string, number][]> {
  const dir = join(outDir, 'counts');
  const totals = new Map<string, number>();
  for (const name of (await readdir(dir).catch(() => [])).filter((n) => n.endsWith('.ndjson'))) {
    for (const line of (await readFile(join(dir, name), 'utf8')).split('\n')) {
      if (line === '') continue;
      const [word, n] = JSON.parse(line) as [string, number];
      totals.set(word, (totals.get(word) ?? 0) + n);
    }
  }
  return [...totals].sort(([a], [b]) => a.localeCompare(b));
}
