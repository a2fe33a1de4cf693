import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StreamingContext, foreachBatch, keyBy, map, type Clock } from 'sluice';
import { fileSink, getOrCreate } from 'sluice/checkpoint';
import { eventTimeWindow, session, withWatermark, type Aggregator } from 'sluice/windows';
import { generateClicks, writeClickFiles, type Click, type Clickstream } from './generate.js';

/** One finished session, as written to the sessions sink. */
export interface SessionRecord {
  readonly user: string;
  /** Time of the first click (ISO). */
  readonly start: string;
  /** Time of the last click (ISO). */
  readonly end: string;
  readonly pages: number;
  readonly durationSec: number;
  readonly entryPage: string;
  readonly exitPage: string;
}

/** The session aggregator's accumulator. */
interface SessionAcc {
  readonly count: number;
  readonly start: number;
  readonly end: number;
  readonly entryPage: string;
  readonly exitPage: string;
}

/**
 * Counts a session's clicks and keeps its first and last click with their pages. Ties in time
 * are broken by page name, so the result does not depend on the order clicks are added or merged.
 */
export function sessionSummary(): Aggregator<Click, SessionAcc, SessionAcc> {
  const empty: SessionAcc = { count: 0, start: Infinity, end: -Infinity, entryPage: '', exitPage: '' };
  const merge = (a: SessionAcc, b: SessionAcc): SessionAcc => {
    if (a.count === 0) return b;
    if (b.count === 0) return a;
    const first = a.start < b.start || (a.start === b.start && a.entryPage <= b.entryPage) ? a : b;
    const last = a.end > b.end || (a.end === b.end && a.exitPage >= b.exitPage) ? a : b;
    return { count: a.count + b.count, start: first.start, entryPage: first.entryPage, end: last.end, exitPage: last.exitPage };
  };
  return {
    create: () => empty,
    add: (acc, click) => merge(acc, { count: 1, start: click.time, end: click.time, entryPage: click.page, exitPage: click.page }),
    merge,
    result: (acc) => acc,
  };
}

/** Options of {@link runSessionization}. */
export interface SessionizationOptions {
  readonly users?: number;
  readonly visitsPerUser?: number;
  readonly lateClicks?: number;
  readonly files?: number;
  readonly seed?: number;
  readonly batchInterval?: string | number;
  readonly maxRecordsPerBatch?: number;
  /**
   * Where the input files, the sinks and the checkpoint go (default: a temporary directory,
   * removed afterwards). Run again on the same directory, with the same options, to resume a
   * stopped or killed run: the input files already there are kept, and the checkpoint carries on.
   */
  readonly outDir?: string;
  /** Stop gracefully on SIGTERM or SIGINT (`ctx.stopOnSignals()`), to be resumed on `outDir` (default false). */
  readonly stopOnSignals?: boolean;
  readonly clock?: Clock;
  /** Where progress lines go (default: nowhere). */
  readonly log?: (line: string) => void;
}

/** What the job wrote. */
export interface SessionizationResult {
  /** The generated input, for checking. */
  readonly input: Clickstream;
  /** Every session record the sessions sink wrote (the runs this one resumed included). */
  readonly sessions: readonly SessionRecord[];
  /** Every click the late sink wrote (the runs this one resumed included). */
  readonly late: readonly Click[];
  /** Malformed lines this run read. */
  readonly badRecords: number;
  /** Batches this run completed (replayed ones included). */
  readonly batches: number;
  /** Whether the job read every file and closed every session (false when a signal stopped it first). */
  readonly finished: boolean;
  /** The output directory (with `sessions/`, `late/` and `checkpoint/`); gone unless `outDir` was given. */
  readonly outDir: string;
}

export const GAP = '30m';
export const GAP_MS = 30 * 60_000;
export const DELAY = '5m';
export const DELAY_MS = 5 * 60_000;

/**
 * Sessionization: clicks from NDJSON files, with a 5-minute watermark, grouped per user into
 * event-time sessions with a 30-minute gap. Finished sessions go to an exactly-once file sink,
 * late clicks to a second one. The files are all there when it starts, so it runs bounded
 * (`runToCompletion`): it reads them, then its final watermark closes every session, and it
 * stops. Stopped or killed, the job started again on the same `outDir` ends with the same outputs.
 */
export async function runSessionization(options: SessionizationOptions = {}): Promise<SessionizationResult> {
  const log = options.log ?? (() => undefined);
  const maxRecordsPerBatch = options.maxRecordsPerBatch ?? 300;
  const outDir = options.outDir ?? (await mkdtemp(join(tmpdir(), 'sluice-sessions-')));
  const inputDir = join(outDir, 'input');
  const sessionsDir = join(outDir, 'sessions');
  const lateDir = join(outDir, 'late');
  try {
    const input = generateClicks({
      maxRecordsPerBatch,
      delayMs: DELAY_MS,
      gapMs: GAP_MS,
      ...(options.users === undefined ? {} : { users: options.users }),
      ...(options.visitsPerUser === undefined ? {} : { visitsPerUser: options.visitsPerUser }),
      ...(options.lateClicks === undefined ? {} : { lateClicks: options.lateClicks }),
      ...(options.seed === undefined ? {} : { seed: options.seed }),
    });
    await writeClickFiles(inputDir, input.clicks, options.files ?? 6);

    const ctx = await getOrCreate(join(outDir, 'checkpoint'), (checkpoint) => {
      const ctx = new StreamingContext({ batchInterval: options.batchInterval ?? '100ms', checkpoint, ...(options.clock ? { clock: options.clock } : {}) });
      const clicks = ctx.textFileStream<Click>(inputDir, { format: 'ndjson', name: 'clicks', maxRecordsPerBatch, badRecords: 'deadLetter' });
      const windowed = clicks.pipe(
        withWatermark((c: Click) => c.time, DELAY),
        keyBy((c) => c.user),
        eventTimeWindow(session(GAP), sessionSummary(), { late: 'sideOutput', name: 'sessions' }),
      );
      windowed.pipe(
        map(({ key, value }): SessionRecord => ({
          user: key,
          start: new Date(value.start).toISOString(),
          end: new Date(value.end).toISOString(),
          pages: value.count,
          durationSec: (value.end - value.start) / 1000,
          entryPage: value.entryPage,
          exitPage: value.exitPage,
        })),
        fileSink(sessionsDir, { name: 'sessions-sink' }),
      );
      windowed.lateRecords().pipe(
        map(([, click]) => click),
        fileSink(lateDir, { name: 'late-sink' }),
      );
      clicks.deadLetters.pipe(
        foreachBatch((bad) => {
          for (const record of bad) log(`  dead letter at ${record.location ?? '?'}: ${record.reason}`);
        }),
      );
      return ctx;
    });

    let badRecords = 0;
    ctx.addListener((event) => {
      if (event.type !== 'batchCompleted') return;
      const p = event.progress;
      badRecords += p.numBadRecords;
      const watermark = p.watermark === undefined ? 'none' : new Date(p.watermark).toISOString();
      log(`batch ${p.batchId}: ${p.numInputRecords} clicks, ${p.numBadRecords} bad, watermark ${watermark}, ${p.processingTimeMs} ms`);
    });
    if (options.stopOnSignals === true) {
      ctx.stopOnSignals();
      log('started: SIGTERM or SIGINT stops the job gracefully; run it again on the same outDir to resume');
    }
    const { batches, completed: finished } = await ctx.runToCompletion();
    const sessions = await readNdjson<SessionRecord>(sessionsDir);
    const late = await readNdjson<Click>(lateDir);
    return { input, sessions, late, badRecords, batches, finished, outDir };
  } finally {
    if (options.outDir === undefined) await rm(outDir, { recursive: true, force: true });
  }
}

/** Every record of a file sink's directory, in batch order. */
async function readNdjson<T>(dir: string): Promise<T[]> {
  const names = (await readdir(dir).catch(() => [])).filter((n) => n.endsWith('.ndjson')).sort();
  const out: T[] = [];
  for (const name of names) {
    for (const line of (await readFile(join(dir, name), 'utf8')).split('\n')) if (line !== '') out.push(JSON.parse(line) as T);
  }
  return out;
}
