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

/** Whether a LevelDB error says the database files are damaged. */
export function isCorruption(error: unknown): boolean {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    if (/corrupt|corruption|truncated|checksum|bad magic|manifest/i.test(e.message)) return true;
    if ((e as { code?: unknown }).code === 'LEVEL_CORRUPTION') return true;
  }
  return false;
}
