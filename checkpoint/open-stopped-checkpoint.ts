import { Level } from 'level';
import { SluiceError } from 'sluice';
import type { CheckpointDb } from './checkpoint-layout.js';
import { isLocked, openFailed, unavailable } from './checkpoint-errors.js';
import { checkCheckpointFiles } from './check-checkpoint-files.js';

/**
 * Opens the LevelDB of a checkpoint no context is using, for a tool that reads it (inspection,
 * state reads): its files are checked first as a start checks them (`verify`: every block too),
 * so damage is refused before LevelDB opens the database. The caller closes it.
 *
 * @param whenLocked - what to do when a running context holds the checkpoint, completing "The
 * checkpoint at <directory> is in use by a running context (LevelDB's lock is held); ".
 * @throws SluiceError `CHECKPOINT_UNAVAILABLE` (no checkpoint there, unreadable, or locked: its
 * cause then has LevelDB's `LEVEL_LOCKED`) or `CHECKPOINT_CORRUPT`.
 */
export async function openStoppedCheckpoint(directory: string, verify: boolean, whenLocked: string): Promise<CheckpointDb> {
  const files = await checkCheckpointFiles(directory, verify).catch((error: unknown) => {
    if (error instanceof SluiceError && /is not a directory/.test(error.message)) throw noCheckpoint(directory, 'not a directory');
    throw error;
  });
  if (!files.exists) throw noCheckpoint(directory, 'no such directory');
  if (!files.database) throw noCheckpoint(directory, 'the directory holds no LevelDB database');
  const db: CheckpointDb = new Level<string, Uint8Array>(directory, { keyEncoding: 'utf8', valueEncoding: 'view', createIfMissing: false });
  try {
    await db.open();
  } catch (error) {
    if (isLocked(error)) throw unavailable(directory, `is in use by a running context (LevelDB's lock is held); ${whenLocked}`, error);
    throw openFailed(directory, error);
  }
  return db;
}

/** The `CHECKPOINT_UNAVAILABLE` error of a directory that holds no checkpoint, and `why`. */
export function noCheckpoint(directory: string, why: string, cause?: unknown): SluiceError {
  return new SluiceError('CHECKPOINT_UNAVAILABLE', `There is no checkpoint at ${directory}: ${why}. Check the path.`, cause === undefined ? {} : { cause });
}
