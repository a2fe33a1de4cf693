import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** What one listing saw of a file: enough to tell whether it is still being written. */
export interface FileStamp {
  readonly size: number;
  readonly mtimeMs: number;
}

const IGNORED_SUFFIXES = ['.tmp', '.part', '.crdownload', '._COPYING_'];

/**
 * Whether a directory source skips a file name: hidden (`.x`), marked private (`_x`), or a name
 * writers use while a file is incomplete (`.tmp`, `.part`, `.crdownload`, Hadoop's `._COPYING_`).
 */
export function isIgnoredFileName(name: string): boolean {
  return name.startsWith('.') || name.startsWith('_') || IGNORED_SUFFIXES.some((suffix) => name.endsWith(suffix));
}

/**
 * Lists the regular files directly in `directory` (symbolic links followed, names that
 * {@link isIgnoredFileName} skips left out) with their size and modification time.
 *
 * @returns the files by name, or `undefined` when the directory does not exist.
 * @throws Error when the path exists but is not a directory, or the listing fails (permissions, I/O).
 */
export async function scanDirectory(directory: string): Promise<Map<string, FileStamp> | undefined> {
  let names: string[];
  try {
    const entries = await readdir(directory, { withFileTypes: true });
    names = entries.filter((e) => (e.isFile() || e.isSymbolicLink()) && !isIgnoredFileName(e.name)).map((e) => e.name);
  } catch (error) {
    const code = errorCode(error);
    if (code === 'ENOENT') return undefined;
    if (code === 'ENOTDIR') {
      throw new Error(`${directory} is not a directory (it, or a folder on its path, is a file); point the directory source at a directory.`, { cause: error });
    }
    throw error;
  }
  const stamps = await Promise.all(
    names.map(async (name) => {
      try {
        return await stat(join(directory, name));
      } catch (error) {
        // Renamed or deleted between the listing and the stat: the next listing sees the new name.
        if (errorCode(error) === 'ENOENT') return undefined;
        throw error;
      }
    }),
  );
  const files = new Map<string, FileStamp>();
  for (const [i, s] of stamps.entries()) {
    if (s?.isFile() === true) files.set(names[i] as string, { size: s.size, mtimeMs: s.mtimeMs });
  }
  return files;
}

/** The `code` of a Node system error (`'ENOENT'`, ...), if it has one. */
export function errorCode(error: unknown): unknown {
  return typeof error === 'object' && error !== null && 'code' in error ? error.code : undefined;
}
