import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

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
 * Checks every LevelDB log file in `directory` record by record, as LevelDB reads them, before
 * the database is opened. What a crash leaves is accepted: a last record cut short by the end of
 * the file, a record split over blocks whose end was never written, zero bytes up to the end.
 * Anything else (a checksum mismatch, an impossible length or type, a broken record sequence)
 * is damage LevelDB would skip silently.
 *
 * @returns the first damage found, or `undefined` when the logs are sound (or there are none, or
 * no directory).
 */
export async function findLogDamage(directory: string): Promise<LogDamage | undefined> {
  const names = await readdir(directory).catch((error: unknown) => {
    if ((error as { code?: unknown }).code === 'ENOENT') return [];
    throw error;
  });
  const logs = names.filter((name) => /^\d+\.log$/.test(name)).sort((a, b) => Number.parseInt(a, 10) - Number.parseInt(b, 10));
  for (const file of logs) {
    // A running LevelDB may delete an old log between the listing and the read.
    const bytes = await readFile(join(directory, file)).catch((error: unknown) => {
      if ((error as { code?: unknown }).code === 'ENOENT') return undefined;
      throw error;
    });
    const damage = bytes === undefined ? undefined : checkLog(bytes);
    if (damage !== undefined) return { file, ...damage };
  }
  return undefined;
}

function checkLog(bytes: Uint8Array): { offset: number; reason: string } | undefined {
  let fragmented = false;
  let at = 0;
  while (at + HEADER_SIZE <= bytes.length) {
    const blockLeft = BLOCK_SIZE - (at % BLOCK_SIZE);
    if (blockLeft < HEADER_SIZE) {
      at += blockLeft;
      continue;
    }
    const length = (bytes[at + 4] as number) | ((bytes[at + 5] as number) << 8);
    const type = bytes[at + 6] as number;
    if (type === 0 && length === 0 && allZero(bytes, at)) return undefined;
    if (HEADER_SIZE + length > blockLeft) return { offset: at, reason: `a record of ${length} bytes does not fit in its block` };
    // Cut short by the end of the file: the writer died while appending it.
    if (at + HEADER_SIZE + length > bytes.length) return undefined;
    const stored = readUint32(bytes, at);
    if (unmask(stored) !== crc32c(bytes, at + 6, at + HEADER_SIZE + length)) return { offset: at, reason: 'checksum mismatch' };
    if (type === FULL || type === FIRST) {
      if (fragmented) return { offset: at, reason: 'a record split over blocks has no end' };
      fragmented = type === FIRST;
    } else if (type === MIDDLE || type === LAST) {
      if (!fragmented) return { offset: at, reason: 'a record split over blocks has no start' };
      fragmented = type === MIDDLE;
    } else {
      return { offset: at, reason: `unknown record type ${type}` };
    }
    at += HEADER_SIZE + length;
  }
  return undefined;
}

function allZero(bytes: Uint8Array, from: number): boolean {
  for (let i = from; i < bytes.length; i++) if (bytes[i] !== 0) return false;
  return true;
}

function readUint32(bytes: Uint8Array, at: number): number {
  return ((bytes[at] as number) | ((bytes[at + 1] as number) << 8) | ((bytes[at + 2] as number) << 16) | ((bytes[at + 3] as number) << 24)) >>> 0;
}

/** LevelDB stores `rotate right 15 (crc) + 0xa282ead8`, so a CRC of data that holds CRCs still checks. */
function unmask(masked: number): number {
  const rotated = (masked - 0xa282ead8) >>> 0;
  return ((rotated >>> 17) | (rotated << 15)) >>> 0;
}

const CRC32C_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32C (Castagnoli) of `bytes[start, end)`. */
function crc32c(bytes: Uint8Array, start: number, end: number): number {
  let c = 0xffffffff;
  for (let i = start; i < end; i++) c = (CRC32C_TABLE[(c ^ (bytes[i] as number)) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
