import type { Socket } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { foreachBatch, ManualClock, SocketSource, StreamingContext, type BadRecord, type SocketSourceOptions } from 'sluice';
import { LineServer } from '../../support/line-server.js';
import { until } from '../../support/until.js';

/*
 * A sender that never stops, against a job that runs a batch only when the test says so: the
 * process must stay alive and its memory flat. Vitest runs each file in its own process (the
 * 'forks' pool), so this process's memory is the source's and the sender's, and the sender
 * respects TCP backpressure (as `nc` or any real client does), so whatever it cannot send waits
 * in the kernel, not in this process.
 */

const MiB = 1 << 20;
/** Bytes sent by each test, several times every bound involved. */
const SENT = 256 * MiB;
/** The most the process may grow while it is flooded: far below what is sent, far above the bounds. */
const GROWTH = 64 * MiB;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Writes `next()` chunks to `socket` as fast as TCP takes them, until stopped, counting the bytes. */
function flood(socket: Socket, next: () => Buffer): { readonly sent: () => number; readonly stop: () => void } {
  let sent = 0;
  let stopped = false;
  const pump = (): void => {
    while (!stopped) {
      const chunk = next();
      sent += chunk.length;
      if (!socket.write(chunk)) {
        socket.once('drain', pump);
        return;
      }
    }
  };
  pump();
  return {
    sent: () => sent,
    stop: () => {
      stopped = true;
    },
  };
}

/** Memory after a full garbage collection, and the peak RSS seen by `sample()` since. */
function memory(): { readonly sample: () => void; readonly live: () => number; readonly growth: () => { rss: number; heap: number; peakRss: number } } {
  gc();
  const before = process.memoryUsage();
  let peakRss = before.rss;
  return {
    sample: () => {
      peakRss = Math.max(peakRss, process.memoryUsage.rss());
    },
    live: () => {
      gc();
      const now = process.memoryUsage();
      return now.heapUsed + now.external - before.heapUsed - before.external;
    },
    growth: () => {
      gc();
      const after = process.memoryUsage();
      return { rss: after.rss - before.rss, heap: after.heapUsed + after.external - before.heapUsed - before.external, peakRss: peakRss - before.rss };
    },
  };
}

async function job(options: SocketSourceOptions<string>) {
  const server = await LineServer.listen();
  cleanups.push(() => server.close());
  const clock = new ManualClock();
  const ctx = new StreamingContext({ batchInterval: 1000, clock, logger: pino({ level: 'silent' }) });
  cleanups.push(() => ctx.stop());
  const source = new SocketSource('127.0.0.1', server.port, options);
  const input = ctx.source(source, { name: 'flood', badRecords: 'deadLetter' });
  const counts = { records: 0, lastRecord: '' };
  const deadLetters: BadRecord[] = [];
  input.pipe(
    foreachBatch((records) => {
      counts.records += records.length;
      if (records.length > 0) counts.lastRecord = records[records.length - 1] as string;
    }),
  );
  input.deadLetters.pipe(foreachBatch((records) => void deadLetters.push(...records)));
  const progress: { input: number; bad: number }[] = [];
  ctx.addListener((event) => {
    if (event.type === 'batchCompleted') progress.push({ input: event.progress.numInputRecords, bad: event.progress.numBadRecords });
  });
  await ctx.start();
  const peer = await server.connection();
  return { ctx, clock, source, peer, counts, deadLetters, progress };
}

describe('SocketSource under a sender that never stops', () => {
  it('discards an endless line as it arrives, keeps memory flat, and reports it as one bad record with its length', { timeout: 60_000 }, async () => {
    const { clock, source, peer, counts, deadLetters, progress } = await job({});
    const mem = memory();
    const chunk = Buffer.alloc(MiB, 'x');
    const sender = flood(peer, () => chunk);
    await until(() => {
      mem.sample();
      return sender.sent() >= SENT;
    }, `${SENT} bytes of one line sent`);
    sender.stop();
    const growth = mem.growth();
    console.info(`endless line: ${sender.sent() / MiB} MiB sent; growth after gc: rss ${(growth.rss / MiB).toFixed(1)} MiB, heap+external ${(growth.heap / MiB).toFixed(1)} MiB; peak rss growth ${(growth.peakRss / MiB).toFixed(1)} MiB`);
    expect(growth.peakRss).toBeLessThan(GROWTH);
    expect(growth.heap).toBeLessThan(GROWTH);
    expect(source.buffered).toEqual({ lines: 0, bytes: 0, paused: false });

    peer.write('\nafter\n');
    await until(() => source.received === 2, 'the end of the long line and one more');
    await clock.advance(1000);
    expect(counts).toEqual({ records: 1, lastRecord: 'after' });
    expect(deadLetters).toHaveLength(1);
    const [bad] = deadLetters;
    expect(bad?.raw).toBe('x'.repeat(1024));
    expect(bad?.reason).toContain(`the line is ${sender.sent()} bytes long, more than maxLineLength (1048576 bytes)`);
    expect(bad?.location).toMatch(/#1$/);
    expect(progress).toEqual([{ input: 1, bad: 1 }]);
  });

  it('stops reading at maxBufferedBytes, so memory stays flat while it is flooded faster than batches run, and loses no line', { timeout: 60_000 }, async () => {
    const maxBufferedBytes = 8 * MiB;
    const { clock, source, peer, counts, progress } = await job({ maxBufferedBytes });
    const mem = memory();
    // 64 KiB of 1 KiB lines, numbered so that the last line received says how many were sent.
    const LINE = 1024;
    let sentLines = 0;
    const sender = flood(peer, () => {
      const lines: string[] = [];
      for (let i = 0; i < 64; i++) lines.push(String(++sentLines).padEnd(LINE - 1, '.'));
      return Buffer.from(`${lines.join('\n')}\n`);
    });
    let mostBuffered = 0;
    let pauses = 0;
    let mostLive = 0;
    while (sender.sent() < SENT) {
      // The job is slower than the sender: a batch runs only once the source has stopped reading.
      await until(() => {
        mem.sample();
        return source.buffered.paused;
      }, 'the source to pause');
      pauses += 1;
      mostBuffered = Math.max(mostBuffered, source.buffered.bytes);
      // What the process holds while the source is full (garbage collected first, so that this
      // measures what is kept, not when V8 chooses to collect).
      mostLive = Math.max(mostLive, mem.live());
      await clock.advance(1000);
    }
    sender.stop();
    const growth = mem.growth();
    console.info(
      `fast sender: ${(sender.sent() / MiB).toFixed(0)} MiB sent in ${pauses} pauses, at most ${(mostBuffered / MiB).toFixed(2)} MiB buffered, ` +
        `at most ${(mostLive / MiB).toFixed(1)} MiB more heap+external while paused; peak rss growth ${(growth.peakRss / MiB).toFixed(1)} MiB`,
    );
    // Checked after each read from the socket: passed by at most one read (64 KiB) and one line.
    expect(mostBuffered).toBeLessThanOrEqual(maxBufferedBytes + 64 * 1024 + LINE);
    expect(pauses).toBeGreaterThanOrEqual(SENT / maxBufferedBytes / 2);
    expect(mostLive).toBeLessThan(GROWTH);
    // RSS also holds garbage V8 has not collected and pages it has not returned: a looser bound,
    // still far below what was sent.
    expect(growth.peakRss).toBeLessThan(2 * GROWTH);
    expect(growth.heap).toBeLessThan(GROWTH);

    // Drain what TCP still holds: every line sent arrives, in order, none of them bad.
    await until(() => source.received === sentLines || (source.buffered.paused && source.buffered.lines > 0), 'lines in flight');
    while (source.received < sentLines) {
      await clock.advance(1000);
      await until(() => source.received === sentLines || source.buffered.paused, 'lines in flight');
    }
    await clock.advance(1000);
    expect(counts.records).toBe(sentLines);
    expect(Number.parseInt(counts.lastRecord, 10)).toBe(sentLines);
    expect(progress.every((p) => p.bad === 0)).toBe(true);
  });
});
