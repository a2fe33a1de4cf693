import { createServer, type Server, type Socket } from 'node:net';
import { StreamingContext, flatMap, foreachBatch, mapToPair, reduceByKey, type Clock } from 'sluice';

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
  readonly clock?: Clock;
  /** Where each batch's counts go (default: nowhere). */
  readonly log?: (line: string) => void;
}

/** What the job counted. */
export interface WordCountResult {
  /** Every word with its total count, sorted by word. */
  readonly totals: readonly (readonly [string, number])[];
  /** The lines the server sent. */
  readonly lines: readonly string[];
  readonly batches: number;
}

/**
 * The classic: word count over a socket. Starts a server sending the text, reads it with
 * `socketTextStream`, counts words per batch with `reduceByKey` and adds the batches up; stops
 * once every line has been read.
 */
export async function runWordCount(options: WordCountOptions = {}): Promise<WordCountResult> {
  const log = options.log ?? (() => undefined);
  const lines = textLines(options.times ?? 50);
  const server = await serveLines(lines);
  try {
    const ctx = new StreamingContext({ batchInterval: options.batchInterval ?? '200ms', ...(options.clock ? { clock: options.clock } : {}) });
    const totals = new Map<string, number>();
    ctx.socketTextStream('127.0.0.1', server.port, { name: 'text', reconnectDelay: '100ms' }).pipe(
      flatMap(words),
      mapToPair((word) => [word, 1]),
      reduceByKey((a, b) => a + b),
      foreachBatch((counts, { batchId }) => {
        if (counts.length === 0) return;
        for (const [word, n] of counts) totals.set(word, (totals.get(word) ?? 0) + n);
        const top = [...counts].sort(([a, x], [b, y]) => y - x || a.localeCompare(b)).slice(0, 5);
        log(`batch ${batchId}: ${counts.length} distinct words; top ${top.map(([w, n]) => `${w}=${n}`).join(' ')}`);
      }),
    );
    let read = 0;
    let batches = 0;
    ctx.addListener((event) => {
      if (event.type !== 'batchCompleted') return;
      batches++;
      read += event.progress.numInputRecords;
      if (read >= lines.length) void ctx.stop({ graceful: true });
    });
    await ctx.start();
    await ctx.awaitTermination();
    return { totals: [...totals].sort(([a], [b]) => a.localeCompare(b)), lines, batches };
  } finally {
    await server.close();
  }
}
