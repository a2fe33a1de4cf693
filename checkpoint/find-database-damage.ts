import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { findLogDamage } from './find-log-damage.js';
import { manifestOf, parseManifest } from './leveldb-manifest.js';
import { findTableDamage } from './leveldb-table.js';

/** Damage in a LevelDB database's files, found without opening it. */
export interface DatabaseDamage {
  /** The file, as LevelDB names it in the directory. */
  readonly file: string;
  readonly reason: string;
  /** The keys a damaged table block holds, where its index says. */
  readonly keys?: string;
}

const tableName = (n: number, extension: string): string => `${String(n).padStart(6, '0')}.${extension}`;

/**
 * Checks the files of the LevelDB database in `directory` as LevelDB reads them when it opens it,
 * without opening it (an open writes: it replays the log into a new table, writes a new MANIFEST
 * and rotates its info log): `CURRENT` names a MANIFEST; the MANIFEST is whole and describes the
 * database; every live table file is there with the size the MANIFEST records, a footer, and
 * sound index checksums (with `full`, every block's checksum, which reads the whole database);
 * the log the MANIFEST names exists, and the logs LevelDB would replay are sound
 * ({@link findLogDamage}).
 *
 * @param names - the directory's file names.
 * @returns the first damage, or `undefined`.
 * @throws the file system's error when a file cannot be read for another reason than damage.
 */
export async function findDatabaseDamage(directory: string, names: readonly string[], full: boolean): Promise<DatabaseDamage | undefined> {
  if (!names.includes('CURRENT')) return { file: 'CURRENT', reason: 'it is missing, so LevelDB would start a new, empty database' };
  const manifestName = manifestOf(await readFile(join(directory, 'CURRENT')));
  if (typeof manifestName !== 'string') return { file: 'CURRENT', reason: manifestName.reason };
  if (!names.includes(manifestName)) return { file: manifestName, reason: 'it is missing (CURRENT names it)' };
  const manifest = parseManifest(await readFile(join(directory, manifestName)));
  if (!('tables' in manifest)) return { file: manifestName, reason: manifest.offset > 0 ? `${manifest.reason} at byte ${manifest.offset}` : manifest.reason };
  for (const table of manifest.tables) {
    const file = [tableName(table.number, 'ldb'), tableName(table.number, 'sst')].find((name) => names.includes(name));
    if (file === undefined) return { file: tableName(table.number, 'ldb'), reason: `it is missing (the MANIFEST lists it at level ${table.level})` };
    const path = join(directory, file);
    const size = (await stat(path)).size;
    if (size !== table.size) return { file, reason: `it has ${size} bytes, the MANIFEST says ${table.size}` };
    const damage = await findTableDamage(path, size, full);
    if (damage !== undefined) return { file, reason: damage.reason, ...(damage.keys === undefined ? {} : { keys: damage.keys }) };
  }
  const log = tableName(manifest.logNumber, 'log');
  // Log 0 is a database LevelDB was creating (its first MANIFEST, written before any log): a kill
  // there leaves it so, and LevelDB opens it as empty.
  if (manifest.logNumber !== 0 && !names.includes(log)) return { file: log, reason: 'it is missing (the MANIFEST names it as the current log)' };
  const damage = await findLogDamage(directory, (n) => n >= manifest.logNumber || n === manifest.prevLogNumber);
  if (damage !== undefined) return { file: damage.file, reason: `damaged at byte ${damage.offset} (${damage.reason})` };
  return undefined;
}
