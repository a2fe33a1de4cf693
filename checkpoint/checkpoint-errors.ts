import { messageOf } from '../core/internal.js';
import { SluiceError } from 'sluice';

/** A `CHECKPOINT_CORRUPT` error for the checkpoint at `directory`. */
export function corrupt(directory: string, what: string, cause?: unknown): SluiceError {
  return new SluiceError(
    'CHECKPOINT_CORRUPT',
    `The checkpoint at ${directory} is damaged: ${what}${cause === undefined ? '' : ` (${messageOf(cause)})`}. Nothing was run on it; restore it from a backup or start with a new directory.`,
    cause === undefined ? {} : { cause },
  );
}

/**
 * A `CHECKPOINT_CORRUPT` error for damage found while the checkpoint is in use (a batch reading
 * its write-ahead log, a reader of a table sink), when something may already have run on it.
 */
export function corruptInUse(directory: string, what: string, cause?: unknown): SluiceError {
  return new SluiceError(
    'CHECKPOINT_CORRUPT',
    `The checkpoint at ${directory} is damaged: ${what}${cause === undefined ? '' : ` (${messageOf(cause)})`}. Restore it from a backup or start with a new directory.`,
    cause === undefined ? {} : { cause },
  );
}

/**
 * A `CHECKPOINT_UNAVAILABLE` error: the checkpoint at `directory` cannot be used, for a reason
 * other than damage (`why` completes "The checkpoint at <directory> ...").
 */
export function unavailable(directory: string, why: string, cause?: unknown): SluiceError {
  return new SluiceError('CHECKPOINT_UNAVAILABLE', `The checkpoint at ${directory} ${why}`, cause === undefined ? {} : { cause });
}

/** Whether a LevelDB error says the database is locked by another process (or another context of this one). */
export function isLocked(error: unknown): boolean {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    if ((e as { code?: unknown }).code === 'LEVEL_LOCKED') return true;
  }
  return false;
}

/** Whether a LevelDB error says the database files are damaged. */
export function isCorruption(error: unknown): boolean {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    if (/corrupt|corruption|truncated|checksum|bad magic|manifest/i.test(e.message)) return true;
    if ((e as { code?: unknown }).code === 'LEVEL_CORRUPTION') return true;
  }
  return false;
}

/** The innermost cause: abstract-level wraps LevelDB's own message in a generic one. */
export function rootCause(error: unknown): unknown {
  let e = error;
  while (e instanceof Error && e.cause !== undefined) e = e.cause;
  return e;
}
