import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32c, readUint32, unmask } from './crc32c.js';

/*
 * LevelDB's write-ahead log (`NNNNNN.log`): 32 KiB blocks of physical records, each a 7-byte
 * header (masked CRC-32C of type and payload, little-endian; payload length, little-endian;
 * type: 1 full, 2 first, 3 middle, 4 last) and the payload; a block's last < 7 bytes are
 * padding. On open, LevelDB replays the logs into its tables. Without `paranoid_checks` (which
 * classic-level does not expose) it skips a damaged record and the rest of its block *and goes on
 * with the records after it*: later atomic batches are applied without the lost ones, silently,
 * and the damaged log is then deleted. So the log must be checked before LevelDB opens it.
 */

const BLOCK_SIZE = 32768;
const HEADER_SIZE = 7;
const FULL = 1;
const FIRST = 2;
const MIDDLE = 3;
const LAST = 4;

/** Where a LevelDB log is damaged. */
export interface LogDamage {
  readonly file: string;
  /** The byte offset of the first damaged record. */
  readonly offset: number;
  readonly reason: string;
}

/**
 * Checks LevelDB log files in `directory` record by record, as LevelDB reads them, before the
 * database is opened: every `NNNNNN.log`, or those of `numbers` (the logs LevelDB would replay).
 * What a crash leaves is accepted: a last record cut short by the end of the file, a record split
 * over blocks whose end was never written, zero bytes up to the end. Anything else (a checksum
 * mismatch, an impossible length or type, a broken record sequence) is damage LevelDB would skip
 * silently.
 *
 * @returns the first damage found, or `undefined` when the logs are sound (or there are none, or
 * no directory).
 */
export async function findLogDamage(directory: string, numbers?: (n: number) => boolean): Promise<LogDamage | undefined> {
  const names = await readdir(directory).catch((error: unknown) => {
    if ((error as { code?: unknown }).code === 'ENOENT') return [];
    throw error;
  });
  const logs = names
    .filter((name) => /^\d+\.log$/.test(name) && (numbers === undefined || numbers(Number.parseInt(name, 10))))
    .sort((a, b) => Number.parseInt(a, 10) - Number.parseInt(b, 10));
  for (const file of logs) {
    // A running LevelDB may delete an old log between the listing and the read.
    const bytes = await readFile(join(directory, file)).catch((error: unknown) => {
      if ((error as { code?: unknown }).code === 'ENOENT') return undefined;
      throw error;
    });
    const damage = bytes === undefined ? undefined : readLogRecords(bytes).damage;
    if (damage !== undefined) return { file, ...damage };
  }
  return undefined;
}

/**
 * The records of a file in LevelDB's log format (a `.log`, or a `MANIFEST`), reassembled, with
 * the first damage if there is one (the records are those before it). A tail cut short, as a
 * crash leaves it, ends the records without damage.
 *
 * @param collect - whether to keep the records (a log check needs only the damage).
 */
export function readLogRecords(bytes: Uint8Array, collect = false): { readonly records: Uint8Array[]; readonly damage: { offset: number; reason: string } | undefined } {
  const records: Uint8Array[] = [];
  let parts: Uint8Array[] | undefined;
  let at = 0;
  const damaged = (reason: string) => ({ records, damage: { offset: at, reason } });
  while (at + HEADER_SIZE <= bytes.length) {
    const blockLeft = BLOCK_SIZE - (at % BLOCK_SIZE);
    if (blockLeft < HEADER_SIZE) {
      at += blockLeft;
      continue;
    }
    const length = (bytes[at + 4] as number) | ((bytes[at + 5] as number) << 8);
    const type = bytes[at + 6] as number;
    if (type === 0 && length === 0 && allZero(bytes, at)) break;
    if (HEADER_SIZE + length > blockLeft) return damaged(`a record of ${length} bytes does not fit in its block`);
    // Cut short by the end of the file: the writer died while appending it.
    if (at + HEADER_SIZE + length > bytes.length) break;
    if (unmask(readUint32(bytes, at)) !== crc32c(bytes, at + 6, at + HEADER_SIZE + length)) return damaged('checksum mismatch');
    const payload = bytes.subarray(at + HEADER_SIZE, at + HEADER_SIZE + length);
    if (type === FULL || type === FIRST) {
      if (parts !== undefined) return damaged('a record split over blocks has no end');
      if (type === FIRST) parts = [payload];
      else if (collect) records.push(payload);
    } else if (type === MIDDLE || type === LAST) {
      if (parts === undefined) return damaged('a record split over blocks has no start');
      parts.push(payload);
      if (type === LAST) {
        if (collect) records.push(Buffer.concat(parts));
        parts = undefined;
      }
    } else {
      return damaged(`unknown record type ${type}`);
    }
    at += HEADER_SIZE + length;
  }
  return { records, damage: undefined };
}

function allZero(bytes: Uint8Array, from: number): boolean {
  for (let i = from; i < bytes.length; i++) if (bytes[i] !== 0) return false;
  return true;
}
