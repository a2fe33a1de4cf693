import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { DirectorySource, IterableSource, ManualClock, QueueSource, RateSource, SocketSource } from 'sluice';
import type { WriteAheadLog } from 'sluice/extend';
import { sourceSuite, type SourceFixture } from 'sluice/testing';
import { LineServer } from '../../support/line-server.js';
import { until } from '../../support/until.js';

/*
 * The Source conformance suite of the test kit, over every built-in source, each on what it
 * really reads: a queue, an async iterable, the clock, files in a temporary directory, and a
 * local TCP line server, without and with a receiver write-ahead log.
 */

/** `n` records named on from earlier calls: `r0`, `r1`, ... */
function names(): (n: number) => string[] {
  let next = 0;
  return (n) => Array.from({ length: n }, () => `r${next++}`);
}

describe('sourceSuite over the queue source (not replayable: no reopen)', () => {
  sourceSuite({
    test: it,
    factory: (): SourceFixture<string> => {
      const source = new QueueSource<string>();
      const make = names();
      return {
        source,
        produce: (n) => {
          source.push(make(n));
        },
      };
    },
  });
});

describe('sourceSuite over the iterable source, on an async iterable (not replayable)', () => {
  sourceSuite({
    test: it,
    factory: (): SourceFixture<string> => {
      const queue: string[] = [];
      let wake: (() => void) | undefined;
      // Records the source has stored: the generator resumes after a yield once the source has
      // buffered the value and asks for the next.
      let taken = 0;
      async function* channel(): AsyncGenerator<string> {
        for (;;) {
          while (queue.length === 0) await new Promise<void>((resolve) => (wake = resolve));
          yield queue.shift() as string;
          taken++;
        }
      }
      const make = names();
      let produced = 0;
      const produce = async (n: number): Promise<void> => {
        queue.push(...make(n));
        produced += n;
        wake?.();
        await until(() => taken === produced, `the source to read ${produced} records ahead`);
      };
      return { source: new IterableSource(channel()), produce };
    },
  });
});

describe('sourceSuite over the rate source (replayable)', () => {
  sourceSuite({
    test: it,
    factory: (): SourceFixture<unknown> => {
      const clock = new ManualClock(0);
      const options = { rowsPerSecond: 10, startTime: 0 };
      return { source: new RateSource(options), clock, produce: (n) => clock.advance(n * 100), reopen: () => new RateSource(options) };
    },
  });
});

/**
 * A known bug, kept visible: the directory source says it is replayable, but its discovery list
 * lives in memory, so a fresh instance (as after a restart) cannot read the offsets the first one
 * gave; a checkpointed textFileStream fails the same way after a restart (SOURCE_FAILED). This
 * case expects that failure, and so fails once the source is fixed: then register it as the others.
 */
const DIRECTORY_REPLAY_CASE = 'Source: a fresh instance (after a restart) gives the same records for the same offsets';

describe('sourceSuite over the directory source, on files in a temporary directory (replayable)', () => {
  sourceSuite({
    test: (name, fn) => {
      if (name !== DIRECTORY_REPLAY_CASE) {
        it(name, fn);
        return;
      }
      it(`${name}: not yet (known bug, the discovery list is not replayable)`, async () => {
        await expect(fn()).rejects.toThrow(/is not an offset of this source \(expected \{ file, line \} within the 0 files discovered\)/);
      });
    },
    factory: async (): Promise<SourceFixture<string>> => {
      const directory = await mkdtemp(join(tmpdir(), 'sluice-source-suite-'));
      const source = new DirectorySource(directory);
      const make = names();
      let files = 0;
      const produce = async (n: number): Promise<void> => {
        // Written under a skipped name and renamed into place, as the source asks.
        const name = `part-${String(files++).padStart(5, '0')}.txt`;
        await writeFile(join(directory, `.${name}`), make(n).map((line) => `${line}\n`).join(''));
        await rename(join(directory, `.${name}`), join(directory, name));
        // A file is taken once two listings in a row see it unchanged: this is the first (a batch with no limit to plan).
        await source.latestOffset(source.initialOffset(), 0);
      };
      return { source, produce, reopen: () => new DirectorySource(directory), cleanup: () => rm(directory, { recursive: true, force: true }) };
    },
  });
});

/** A receiver write-ahead log in memory, durable for the life of the test; an append lands a turn later, as a write to disk would. */
class MemoryWriteAheadLog implements WriteAheadLog {
  readonly #lines: string[] = [];

  end(): Promise<number> {
    return Promise.resolve(this.#lines.length);
  }

  async append(records: readonly string[]): Promise<void> {
    await nextTurn();
    this.#lines.push(...records);
  }

  read(from: number, to: number): Promise<string[]> {
    return Promise.resolve(this.#lines.slice(from, to));
  }
}

/** A socket source connected to a fresh line server; `produce` writes lines and waits until the source holds them. */
async function socketFixture(writeAheadLog?: WriteAheadLog): Promise<SourceFixture<string>> {
  const server = await LineServer.listen();
  const source = new SocketSource('127.0.0.1', server.port);
  const make = names();
  const produce = async (n: number): Promise<void> => {
    const peer = await server.connection(1);
    const expected = source.received + n;
    peer.write(make(n).map((line) => `${line}\n`).join(''));
    await until(() => source.received === expected, `${expected} lines received`);
  };
  const cleanup = (): Promise<void> => server.close();
  if (writeAheadLog === undefined) return { source, produce, cleanup };
  return { source, produce, cleanup, writeAheadLog, reopen: () => new SocketSource('127.0.0.1', server.port) };
}

describe('sourceSuite over the socket source, on a local line server (not replayable without a write-ahead log)', () => {
  sourceSuite({ test: it, factory: () => socketFixture() });
});

describe('sourceSuite over the socket source with a receiver write-ahead log (replayable)', () => {
  sourceSuite({ test: it, factory: () => socketFixture(new MemoryWriteAheadLog()) });
});
