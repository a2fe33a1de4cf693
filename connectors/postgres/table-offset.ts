import { SluiceError } from 'sluice';
import type { Offset } from 'sluice/extend';

/*
 * A table source's offsets: the version in force, as `{ version, rows, hash, log? }` (`log`: the
 * write-ahead log entries of its rows, with a checkpoint).
 */

/** A version as an offset names it. */
export interface VersionRef {
  readonly version: number;
  readonly rows: number;
  readonly hash: string;
  readonly log: readonly [number, number] | undefined;
}

/** The offset of a version. */
export function offsetOf(version: VersionRef): Offset {
  const { version: v, rows, hash, log } = version;
  return log === undefined ? { version: v, rows, hash } : { version: v, rows, hash, log: [log[0], log[1]] };
}

/**
 * The version an offset names.
 *
 * @throws SluiceError `SOURCE_FAILED` for an offset that is not a table version.
 */
export function parseOffset(offset: Offset, source: string): VersionRef {
  const o = offset as Partial<Record<string, unknown>> | null;
  const log = o?.log;
  const isLog = (x: unknown): x is [number, number] => Array.isArray(x) && x.length === 2 && x.every((n) => Number.isSafeInteger(n));
  if (typeof o !== 'object' || o === null || !Number.isSafeInteger(o.version) || !Number.isSafeInteger(o.rows) || typeof o.hash !== 'string' || (log !== undefined && !isLog(log))) {
    throw new SluiceError('SOURCE_FAILED', `Source ${source}: offset ${JSON.stringify(offset)} is not a table version; was the checkpoint written by another source?`, { source });
  }
  return { version: o.version as number, rows: o.rows as number, hash: o.hash, log: log };
}
