import { readLogRecords } from './find-log-damage.js';
import { ByteReader } from './leveldb-format.js';

/*
 * LevelDB's MANIFEST: a file in the log format whose records are version edits (tag, value
 * pairs: 1 comparator, 2 log number, 3 next file number, 4 last sequence, 5 compact pointer,
 * 6 deleted file, 7 new file, 9 previous log number). Applied in order they give the live table
 * files, each with its level and size, and the log LevelDB writes to. `CURRENT` names the
 * MANIFEST in use.
 */

/** A live table file of the database. */
export interface LiveTable {
  readonly number: number;
  readonly level: number;
  readonly size: number;
}

/** What a MANIFEST says of the database. */
export interface Manifest {
  /** The log LevelDB writes to; it and later logs are replayed on open. */
  readonly logNumber: number;
  /** An older log still to replay (0: none). */
  readonly prevLogNumber: number;
  readonly tables: readonly LiveTable[];
}

/** The MANIFEST file `CURRENT` names, or why it names none. */
export function manifestOf(current: Uint8Array): string | { readonly reason: string } {
  const text = Buffer.from(current).toString('latin1');
  if (text.length === 0) return { reason: 'it is empty' };
  if (!text.endsWith('\n')) return { reason: 'it does not end with a newline' };
  const name = text.slice(0, -1);
  return /^MANIFEST-\d+$/.test(name) ? name : { reason: `it names no MANIFEST (${JSON.stringify(name.slice(0, 40))})` };
}

/**
 * Reads a MANIFEST as LevelDB does when it opens the database.
 *
 * @returns what it says, or where it is damaged (a record whose checksum fails, an edit that
 * cannot be parsed, or no complete description of the database).
 */
export function parseManifest(bytes: Uint8Array): Manifest | { readonly offset: number; readonly reason: string } {
  const { records, damage } = readLogRecords(bytes, true);
  if (damage !== undefined) return damage;
  const live = new Map<string, LiveTable>();
  let logNumber: number | undefined;
  let prevLogNumber = 0;
  let nextFile: number | undefined;
  let lastSequence: number | undefined;
  for (const [i, record] of records.entries()) {
    const edit = new ByteReader(record);
    try {
      while (!edit.done) {
        const tag = edit.varint();
        switch (tag) {
          case 1:
            if (Buffer.from(edit.slice()).toString('latin1') !== 'leveldb.BytewiseComparator') return { offset: 0, reason: 'it names another comparator than LevelDB\'s bytewise one' };
            break;
          case 2:
            logNumber = edit.varint();
            break;
          case 3:
            nextFile = edit.varint();
            break;
          case 4:
            lastSequence = edit.varint();
            break;
          case 5:
            edit.varint();
            edit.slice();
            break;
          case 6:
            live.delete(`${edit.varint()}/${edit.varint()}`);
            break;
          case 7: {
            const level = edit.varint();
            const number = edit.varint();
            const size = edit.varint();
            edit.slice();
            edit.slice();
            live.set(`${level}/${number}`, { number, level, size });
            break;
          }
          case 9:
            prevLogNumber = edit.varint();
            break;
          default:
            return { offset: 0, reason: `version edit ${i} has an unknown tag ${tag}` };
        }
      }
    } catch (error) {
      return { offset: 0, reason: `version edit ${i} cannot be parsed (${(error as Error).message})` };
    }
  }
  if (logNumber === undefined || nextFile === undefined || lastSequence === undefined) {
    return { offset: 0, reason: `it does not describe the database (${records.length === 0 ? 'no complete record' : 'no log number, next file or last sequence'})` };
  }
  return { logNumber, prevLogNumber, tables: [...live.values()].sort((a, b) => a.number - b.number) };
}
