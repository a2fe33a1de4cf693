import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SluiceError } from 'sluice';
import { messageOf } from '../core/internal.js';
import { corrupt, unavailable } from './checkpoint-errors.js';
import { MARKER_FILE, MARKER_VERSION, parseMarker, type CheckpointMarker } from './checkpoint-marker.js';
import { findDatabaseDamage } from './find-database-damage.js';
import { MONITOR_DISCOVERY_FILE } from './monitor-discovery.js';

/** LevelDB's files: its data, and its lock and info logs. */
const LEVEL_FILE = /^(?:CURRENT|LOCK|LOG|LOG\.old|MANIFEST-\d+|\d+\.(?:log|ldb|sst|dbtmp))$/;
/** The files that hold a LevelDB database's data. */
const DATA_FILE = /^(?:CURRENT|MANIFEST-\d+|\d+\.(?:log|ldb|sst))$/;

/** What a checkpoint directory holds, found before LevelDB opens it. */
export interface CheckpointFiles {
  /** Whether the directory exists. */
  readonly exists: boolean;
  /** Whether it holds a LevelDB database (otherwise opening it creates one). */
  readonly database: boolean;
  /** Its marker: present once the checkpoint has held a durable commit. */
  readonly marker: CheckpointMarker | undefined;
}

/**
 * Checks a checkpoint directory before LevelDB opens it, reading its files only (so a refusal
 * leaves every byte of the directory as it was): the marker, the combination of marker and
 * database, and the database's files ({@link findDatabaseDamage}, every block's checksum with
 * `full`).
 *
 * @throws SluiceError `CHECKPOINT_CORRUPT` for a damaged marker or database, or a marked directory
 * without its database; `CHECKPOINT_UNAVAILABLE` for a directory that cannot be read or is not
 * empty and holds no checkpoint; `CHECKPOINT_INCOMPATIBLE` for a marker of a later version.
 */
export async function checkCheckpointFiles(directory: string, full = false): Promise<CheckpointFiles> {
  let names: string[];
  try {
    names = await readdir(directory);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'ENOENT') return { exists: false, database: false, marker: undefined };
    throw unavailable(directory, code === 'ENOTDIR' ? 'is not a directory.' : `cannot be read: ${messageOf(error)}. Check the path and its permissions.`, error);
  }
  try {
    const marker = names.includes(MARKER_FILE) ? await readMarker(directory) : undefined;
    const data = names.filter((name) => DATA_FILE.test(name));
    if (data.length === 0) {
      if (marker !== undefined) throw corrupt(directory, `its LevelDB database is missing: the marker ${MARKER_FILE} says it holds commits, but no LevelDB data file is left`);
      // A running job's monitor may have announced itself in the directory before its first commit.
      const others = names.filter((name) => !LEVEL_FILE.test(name) && !name.startsWith(MARKER_FILE) && !name.startsWith(MONITOR_DISCOVERY_FILE));
      if (others.length > 0) {
        const listed = others.slice(0, 3).join(', ') + (others.length > 3 ? ', ...' : '');
        throw unavailable(directory, `is not empty and holds no Sluice checkpoint (${listed}). Give the checkpoint a directory of its own.`);
      }
      return { exists: true, database: false, marker };
    }
    // Unmarked, without CURRENT: LevelDB was killed creating the database, before it named its
    // first MANIFEST; it starts it again, and no commit was lost (a commit is followed by the marker).
    if (marker === undefined && !names.includes('CURRENT')) return { exists: true, database: true, marker };
    const damage = await findDatabaseDamage(directory, names, full);
    if (damage !== undefined) throw corrupt(directory, `LevelDB's file ${damage.file}: ${damage.reason}${damage.keys === undefined ? '' : ` (${damage.keys})`}`);
    return { exists: true, database: true, marker };
  } catch (error) {
    if (error instanceof SluiceError) throw error;
    throw unavailable(directory, `cannot be read: ${messageOf(error)}. Check the path and its permissions.`, error);
  }
}

async function readMarker(directory: string): Promise<CheckpointMarker> {
  const marker = parseMarker(await readFile(join(directory, MARKER_FILE)));
  if ('reason' in marker) throw corrupt(directory, `its marker ${MARKER_FILE} is damaged: ${marker.reason}`);
  if (marker.sluiceCheckpoint > MARKER_VERSION) {
    throw new SluiceError('CHECKPOINT_INCOMPATIBLE', `The checkpoint at ${directory} has a marker of version ${marker.sluiceCheckpoint}; this Sluice reads version ${MARKER_VERSION}. Run the version of Sluice that wrote it, or use a new checkpoint directory.`);
  }
  return marker;
}
