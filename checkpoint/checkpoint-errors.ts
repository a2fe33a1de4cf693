import { messageOf } from '../core/internal.js';
import { SluiceError } from 'sluice';

/** A `CHECKPOINT_CORRUPT` error for the checkpoint at `directory`. */
export function corrupt(directory: string, what: string, cause?: unknown): SluiceError {
  return new SluiceError(
    'CHECKPOINT_CORRUPT',
    `The checkpoint at ${directory} is damaged: ${what}${cause === undefined ? '' : ` (${messageOf(cause)})`}. Nothing was run on it. ${restoreAdvice(directory)}`,
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
    `The checkpoint at ${directory} is damaged: ${what}${cause === undefined ? '' : ` (${messageOf(cause)})`}. ${restoreAdvice(directory)}`,
    cause === undefined ? {} : { cause },
  );
}

/** What to do about a damaged checkpoint at `directory`, for messages. */
export function restoreAdvice(directory: string): string {
  return `Restore the directory from a copy taken while no context ran on it, or start with a new directory; 'sluice inspect --verify ${directory}' reports the damage.`;
}

/**
 * The error of a LevelDB open of the checkpoint at `directory` that failed: `CHECKPOINT_UNAVAILABLE`
 * when another process or context holds it or the file system refuses access, otherwise
 * `CHECKPOINT_CORRUPT`, naming the file LevelDB names.
 */
export function openFailed(directory: string, error: unknown): SluiceError {
  if (isLocked(error)) return unavailable(directory, "is in use by another process or context (LevelDB's lock is held). Stop it first, or use a copy of the directory.", error);
  const cause = rootCause(error);
  const message = messageOf(cause);
  if (/permission denied|EACCES|EPERM|read-only file system|EROFS/i.test(message)) {
    return unavailable(directory, `cannot be opened: ${message}. Check the path and its permissions.`, error);
  }
  const file = /\d{6}\.(?:ldb|sst|log)|MANIFEST-\d+|CURRENT/.exec(message)?.[0];
  return corrupt(directory, `LevelDB cannot open it${file === undefined ? '' : ` (file ${file})`}`, cause);
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
