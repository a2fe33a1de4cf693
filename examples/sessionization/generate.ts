import { access, mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** One click of the generated clickstream, as it appears in the NDJSON files. */
export interface Click {
  readonly user: string;
  readonly page: string;
  /** Event time, ms since the epoch. */
  readonly time: number;
}

/** What {@link generateClicks} made: the clicks in arrival (file) order, and which are late. */
export interface Clickstream {
  /** Every click, in the order it arrives (the order of the lines in the files). */
  readonly clicks: readonly Click[];
  /** Indexes into `clicks` of the clicks injected as late (hours behind the stream). */
  readonly late: ReadonlySet<number>;
}

/** Knobs of the generator, with the job's settings it must respect to make the late clicks late for sure. */
export interface ClickstreamOptions {
  readonly users?: number;
  readonly seed?: number;
  /** Sessions (visits) per user. */
  readonly visitsPerUser?: number;
  /** How many late clicks to try to inject. */
  readonly lateClicks?: number;
  /** The job's `maxRecordsPerBatch` (a late click is placed at least this far behind the point that makes it late). */
  readonly maxRecordsPerBatch: number;
  /** The job's watermark delay and session gap (ms). */
  readonly delayMs: number;
  readonly gapMs: number;
}


const PAGES = ['/home', '/search', '/product/1', '/product/2', '/product/3', '/cart', '/checkout', '/help', '/account'] as const;
const MINUTE = 60_000;
/** Clicks reach the files up to this long after they happened (less than the watermark delay). */
export const MAX_DISORDER_MS = 2 * MINUTE;
/** A visit has at most this many clicks, at most 10 minutes apart: it spans at most 2 hours. */
const MAX_CLICKS = 12;
const MAX_SPAN_MS = (MAX_CLICKS - 1) * 10 * MINUTE;
const START = Date.UTC(2026, 2, 2, 6, 0, 0);

/**
 * A deterministic (seeded LCG) clickstream: users visit the site several times; clicks within a
 * visit are 10 s to 10 min apart, visits of a user are 45 min to 5 h apart. Each click arrives
 * 0 to 2 min after it happened, so the files are out of order by up to 2 minutes. Then late clicks
 * (a phone that was offline for hours) are inserted, each only where the watermark has certainly
 * passed its would-be session, whatever the batches turn out to be.
 */
export function generateClicks(options: ClickstreamOptions): Clickstream {
  const { users = 40, visitsPerUser = 6, lateClicks = 12, maxRecordsPerBatch, delayMs, gapMs } = options;
  if (delayMs <= MAX_DISORDER_MS) throw new RangeError('generateClicks: the watermark delay must exceed the 2-minute disorder.');
  let state = (options.seed ?? 7) >>> 0;
  const next = (): number => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  const between = (lo: number, hi: number): number => lo + Math.floor(next() * (hi - lo));
  const page = (): string => PAGES[Math.floor(next() * PAGES.length)] ?? '/home';

  const arriving: { click: Click; arrival: number }[] = [];
  for (let u = 0; u < users; u++) {
    const user = `user-${String(u).padStart(3, '0')}`;
    let t = START + between(0, 3 * 60 * MINUTE);
    for (let v = 0; v < visitsPerUser; v++) {
      const clicks = between(1, MAX_CLICKS + 1);
      for (let c = 0; c < clicks; c++) {
        if (c > 0) t += between(10_000, 10 * MINUTE);
        arriving.push({ click: { user, page: c === 0 ? '/home' : page(), time: t }, arrival: t + between(0, MAX_DISORDER_MS) });
      }
      t += between(45 * MINUTE, 5 * 60 * MINUTE);
    }
  }
  arriving.sort((a, b) => a.arrival - b.arrival || a.click.user.localeCompare(b.click.user));
  const clicks: Click[] = arriving.map((a) => a.click);

  // Late clicks: at position i, the watermark is at least (max time of clicks[0..i - M]) - delay.
  // A click at t is late for sure when t + 2 * gap + (longest visit) is below that: no session it
  // could join is still open.
  const late = new Set<number>();
  const wanted = Math.max(0, lateClicks);
  for (let k = 0; k < wanted; k++) {
    const at = between(Math.floor(clicks.length / 3), clicks.length);
    let max = -Infinity;
    for (let j = 0; j <= at - maxRecordsPerBatch - 2; j++) max = Math.max(max, clicks[j]?.time ?? -Infinity);
    const time = max - delayMs - 2 * gapMs - MAX_SPAN_MS - between(MINUTE, 3 * 60 * MINUTE);
    if (!(time > START - 24 * 60 * MINUTE)) continue;
    const user = `user-${String(between(0, users)).padStart(3, '0')}`;
    clicks.splice(at, 0, { user, page: page(), time });
    // Indexes at or after `at` move up by one.
    const moved = [...late].map((i) => (i >= at ? i + 1 : i));
    late.clear();
    for (const i of moved) late.add(i);
    late.add(at);
  }
  return { clicks, late };
}

/**
 * Writes the clicks into `dir` as `files` NDJSON files (in order), each under a temporary name
 * first and then renamed, plus one malformed line. A file already there is left as it is: it is
 * whole (it was renamed into place), and the same clicks give the same files, so a resumed run
 * reads what the first one did.
 *
 * @returns the number of lines in the files.
 */
export async function writeClickFiles(dir: string, clicks: readonly Click[], files: number): Promise<number> {
  await mkdir(dir, { recursive: true });
  const perFile = Math.ceil(clicks.length / files);
  let lines = 0;
  const write = async (name: string, body: string[]): Promise<void> => {
    lines += body.length;
    if (await exists(join(dir, name))) return;
    await writeFile(join(dir, `${name}.tmp`), `${body.join('\n')}\n`);
    await rename(join(dir, `${name}.tmp`), join(dir, name));
  };
  for (let f = 0; f < files; f++) {
    const body = clicks.slice(f * perFile, (f + 1) * perFile).map((c) => JSON.stringify(c));
    if (f === 1) body.splice(5, 0, '{"user": "user-001", "page": ');
    await write(`clicks-${String(f).padStart(3, '0')}.ndjson`, body);
  }
  return lines;
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}
