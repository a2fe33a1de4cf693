import { SluiceError } from 'sluice';
import { decodeValue } from 'sluice/extend';
import { sublevels, type CheckpointDb } from './checkpoint-layout.js';
import { corrupt, rootCause, unavailable } from './checkpoint-errors.js';
import { MARKER_FILE, type CheckpointMarker } from './checkpoint-marker.js';

/**
 * What a new checkpoint may hold before its meta entry, as key ranges `[from, to)` in key order:
 * plans and commits (damage, found by recovery), its id (written with its first plan) and
 * write-ahead-log lines.
 */
const BEFORE_META: readonly (readonly [string, string])[] = [
  ['!commits!', '!commits"'],
  ['!meta!id', '!meta!id\x00'],
  ['!offsets!', '!offsets"'],
  ['!wal!', '!wal"'],
];

/**
 * Checks, once LevelDB has opened the checkpoint's database and before anything reads or writes
 * it, that the database is the checkpoint the directory's marker says: a marked directory's
 * database holds the meta entry, at least one commit and the marker's id. A database without a
 * marker and without a meta entry is a new checkpoint, unless it holds keys Sluice does not write.
 *
 * @throws SluiceError `CHECKPOINT_CORRUPT` when the database is not what the marker says or
 * LevelDB cannot read it, `CHECKPOINT_UNAVAILABLE` when it is not a Sluice checkpoint.
 */
export async function checkOpenedCheckpoint(db: CheckpointDb, directory: string, marker: CheckpointMarker | undefined): Promise<void> {
  try {
    const { meta, commits } = sublevels(db);
    const format = await meta.get('format');
    if (marker === undefined) {
      if (format === undefined && (await holdsOtherKeys(db))) {
        throw unavailable(directory, 'holds a LevelDB database that is not a Sluice checkpoint (it has keys Sluice does not write). Give the checkpoint a directory of its own.');
      }
      return;
    }
    const markedAs = `but its marker ${MARKER_FILE} says it holds commits`;
    if (format === undefined) throw corrupt(directory, `its database holds no checkpoint meta entry, ${markedAs}`);
    if ((await commits.keys({ limit: 1 }).all()).length === 0) throw corrupt(directory, `its database holds no commit, ${markedAs}`);
    const id = await readCheckpointId(db, directory);
    if (id !== marker.id) throw corrupt(directory, `its database belongs to another checkpoint (id ${id ?? 'missing'}; the marker ${MARKER_FILE} says ${marker.id})`);
  } catch (error) {
    if (error instanceof SluiceError) throw error;
    throw corrupt(directory, 'LevelDB cannot read it', rootCause(error));
  }
}

/**
 * The checkpoint's id (meta entry `id`), written with its first commit; `undefined` before it, or
 * for a checkpoint written before ids.
 *
 * @throws SluiceError `CHECKPOINT_CORRUPT` when the entry cannot be decoded.
 */
export async function readCheckpointId(db: CheckpointDb, directory: string): Promise<string | undefined> {
  const bytes = await sublevels(db).meta.get('id');
  if (bytes === undefined) return undefined;
  let id: unknown;
  try {
    id = decodeValue(bytes);
  } catch (error) {
    throw corrupt(directory, 'the id entry cannot be decoded', error);
  }
  if (typeof id !== 'string') throw corrupt(directory, 'the id entry is not an id');
  return id;
}

/** Whether the database holds a key outside what a new checkpoint may hold. */
async function holdsOtherKeys(db: CheckpointDb): Promise<boolean> {
  let from: string | undefined;
  for (const [start, end] of [...BEFORE_META, [undefined, undefined] as const]) {
    const range = { ...(from === undefined ? {} : { gte: from }), ...(start === undefined ? {} : { lt: start }), limit: 1 };
    if ((await db.keys(range).all()).length > 0) return true;
    from = end;
  }
  return false;
}
