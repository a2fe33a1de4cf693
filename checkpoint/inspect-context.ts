import { SluiceError, type StreamingContext } from 'sluice';
import { messageOf } from '../core/internal.js';
import { checkpointerOf } from './checkpoint-access.js';
import type { CheckpointDb, CheckpointSnapshot } from './checkpoint-layout.js';
import { readInspection, type CheckpointInspection } from './inspect.js';

/**
 * `inspectCheckpoint` for a running context: the same report, read through the context's open
 * checkpoint at one LevelDB snapshot, so it is consistent with one committed batch (a batch
 * committing meanwhile is either wholly in it or not at all; a batch planned and not yet committed
 * is `pending`). What a job's monitor serves as `GET /api/checkpoint`, and `sluice inspect` prints
 * for a running job.
 *
 * @throws TypeError when the context has no LevelDB checkpoint, or it is not open (before
 * `start()`, after `stop()`).
 * @throws SluiceError `CONTEXT_STOPPED` when the context stops during the read;
 * `CHECKPOINT_CORRUPT` as `inspectCheckpoint`.
 * @example app.get('/checkpoint', async () => JSON.stringify(await inspectContext(ctx)));
 */
export async function inspectContext(ctx: StreamingContext): Promise<CheckpointInspection> {
  return readAtSnapshot(ctx, (db, snapshot, directory) => readInspection(db, directory, snapshot));
}

/**
 * Runs `read` on the open database of `ctx`'s checkpoint at one snapshot, closed after it.
 *
 * @throws TypeError when the checkpoint is not open; SluiceError `CONTEXT_STOPPED` when it closed during the read.
 */
export async function readAtSnapshot<T>(ctx: StreamingContext, read: (db: CheckpointDb, snapshot: CheckpointSnapshot, directory: string) => Promise<T>): Promise<T> {
  const checkpointer = checkpointerOf(ctx);
  const db = checkpointer.db;
  let snapshot: CheckpointSnapshot;
  try {
    snapshot = db.snapshot();
  } catch (error) {
    throw stopped(checkpointer.directory, error);
  }
  try {
    return await read(db, snapshot, checkpointer.directory);
  } catch (error) {
    if (db.status !== 'open') throw stopped(checkpointer.directory, error);
    throw error;
  } finally {
    await snapshot.close().catch(() => undefined);
  }
}

function stopped(directory: string, cause: unknown): SluiceError {
  return new SluiceError('CONTEXT_STOPPED', `The context stopped while its checkpoint at ${directory} was read (${messageOf(cause)}); inspect the checkpoint itself now.`, { cause });
}
