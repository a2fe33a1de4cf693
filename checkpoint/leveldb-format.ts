/*
 * Reading LevelDB's own encodings: varints and length-prefixed slices (as a MANIFEST's version
 * edits and a table's blocks write them).
 */

/** A cursor over bytes; every read throws a RangeError past the end. */
export class ByteReader {
  readonly bytes: Uint8Array;
  at: number;
  readonly end: number;

  constructor(bytes: Uint8Array, at = 0, end = bytes.length) {
    this.bytes = bytes;
    this.at = at;
    this.end = end;
  }

  get done(): boolean {
    return this.at >= this.end;
  }

  /** A varint of up to 64 bits (exact up to 2^53). */
  varint(): number {
    let value = 0;
    for (let shift = 0; shift < 64; shift += 7) {
      if (this.at >= this.end) throw new RangeError('a varint runs past the end');
      const b = this.bytes[this.at++] as number;
      value += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return value;
    }
    throw new RangeError('a varint is too long');
  }

  /** `n` bytes. */
  take(n: number): Uint8Array {
    if (n < 0 || this.at + n > this.end) throw new RangeError(`${n} bytes run past the end`);
    const out = this.bytes.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }

  /** A varint length, then that many bytes. */
  slice(): Uint8Array {
    return this.take(this.varint());
  }
}

/** A key for messages: printable ASCII as it is, other bytes as `\xNN`. */
export function printableKey(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += b >= 0x20 && b < 0x7f && b !== 0x5c ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`;
  return out;
}
