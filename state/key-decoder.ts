import { SluiceError, type Key, type KeyPart } from 'sluice';
import { ARRAY, BIGINT, BIGINT_NEGATIVE, describeNonKey, ESCAPE, FALSE, hex2, keyBytesForMessage, LONG_LENGTH, NUMBER, STRING, TRUE } from './key-layout.js';
import type { StoreKey } from './state-store.js';

// eslint-disable-next-line no-control-regex -- 0x01 starts an escape.
const NEEDS_DECODING = /[\x01\x80-\uffff]/;
/** Number decoding scratch space (decoding is synchronous). */
const scratch = Buffer.allocUnsafeSlow(8);

/**
 * Decodes a key made by `encodeKey`; arrays decode as arrays.
 *
 * @throws TypeError when `encoded` is not a string; SluiceError `STATE_CORRUPT` naming the byte
 * and what is wrong when it is not a canonical encoded key.
 */
export function decodeKey(encoded: StoreKey): Key {
  if (typeof encoded !== 'string') throw new TypeError(`decodeKey takes a StoreKey string, not ${describeNonKey(encoded)}.`);
  if (encoded.length === 0) throw malformed(encoded, 0, 'an empty string is not an encoded key');
  if (encoded.charCodeAt(0) === ARRAY) {
    const parts: KeyPart[] = [];
    let at = 1;
    while (at < encoded.length) at = readPart(encoded, at, parts);
    return parts;
  }
  const parts: KeyPart[] = [];
  const end = readPart(encoded, 0, parts);
  if (end !== encoded.length) throw malformed(encoded, end, 'bytes after the end of a single-part key');
  return parts[0] as KeyPart;
}

/** Reads the part at `at` into `parts`; returns the index after it. */
function readPart(encoded: string, at: number, parts: KeyPart[]): number {
  const tag = encoded.charCodeAt(at);
  switch (tag) {
    case FALSE:
    case TRUE:
      parts.push(tag === TRUE);
      return at + 1;
    case NUMBER:
      parts.push(readNumber(encoded, at + 1));
      return at + 9;
    case BIGINT:
    case BIGINT_NEGATIVE:
      return readBigint(encoded, at, parts);
    case STRING:
      return readString(encoded, at + 1, parts);
    default:
      throw malformed(encoded, at, `unknown type tag 0x${hex2(tag)}`);
  }
}

function readNumber(encoded: string, at: number): number {
  if (at + 8 > encoded.length) throw malformed(encoded, at, 'a number needs 8 bytes');
  const positive = encoded.charCodeAt(at) & 0x80;
  for (let i = 0; i < 8; i++) {
    const b = byteAt(encoded, at + i);
    scratch[i] = positive ? (i === 0 ? b ^ 0x80 : b) : ~b;
  }
  const value = scratch.readDoubleBE(0);
  if (value === 0 && 1 / value < 0) throw malformed(encoded, at, '-0 (it is written as 0)');
  if (value !== value && (scratch.readUInt32BE(0) !== 0x7ff80000 || scratch.readUInt32BE(4) !== 0)) {
    throw malformed(encoded, at, 'a NaN other than the canonical 0x7ff8000000000000');
  }
  return value;
}

function readBigint(encoded: string, start: number, parts: KeyPart[]): number {
  const negative = encoded.charCodeAt(start) === BIGINT_NEGATIVE;
  const flip = negative ? 0xff : 0;
  let at = start + 1;
  let size = byteAt(encoded, at++) ^ flip;
  if (size === LONG_LENGTH) {
    size = 0;
    for (let i = 0; i < 4; i++) size = size * 256 + (byteAt(encoded, at++) ^ flip);
    if (size < LONG_LENGTH) throw malformed(encoded, start, `bigint length ${size} in the long form`);
  }
  if (at + size > encoded.length) throw malformed(encoded, start, `a bigint of ${size} bytes runs past the end`);
  if (size === 0) {
    if (negative) throw malformed(encoded, start, 'a negative zero bigint');
    parts.push(0n);
    return at;
  }
  if ((byteAt(encoded, at) ^ flip) === 0) throw malformed(encoded, at, 'a bigint with a leading zero byte');
  let hex = '0x';
  for (let i = 0; i < size; i++) hex += hex2(byteAt(encoded, at + i) ^ flip);
  parts.push(negative ? -BigInt(hex) : BigInt(hex));
  return at + size;
}

function readString(encoded: string, start: number, parts: KeyPart[]): number {
  const end = encoded.indexOf('\x00', start);
  if (end < 0) throw malformed(encoded, start, 'a string without its 0x00 terminator');
  const text = encoded.slice(start, end);
  if (NEEDS_DECODING.test(text)) return readStringSlowly(encoded, start, end, parts);
  parts.push(text);
  return end + 1;
}

/** Decodes escaped UTF-8 up to the terminator at `end`, rejecting any bytes encodeKey would not write. */
function readStringSlowly(encoded: string, start: number, end: number, parts: KeyPart[]): number {
  let text = '';
  let run = start;
  let at = start;
  let afterHighSurrogate = -1;
  while (at < end) {
    const b = byteAt(encoded, at);
    if (b === ESCAPE) {
      const escaped = encoded.charCodeAt(at + 1);
      if (escaped !== 1 && escaped !== 2) throw malformed(encoded, at, 'an escape other than 0x01 0x01 or 0x01 0x02');
      text += encoded.slice(run, at) + String.fromCharCode(escaped - 1);
      at += 2;
      run = at;
    } else if (b < 0x80) {
      at++;
    } else {
      text += encoded.slice(run, at);
      const size = utf8Size(b);
      if (size === 0) throw malformed(encoded, at, `0x${hex2(b)} is not a UTF-8 lead byte`);
      const cp = readUtf8(encoded, at, size);
      if (cp >= 0xdc00 && cp < 0xe000 && afterHighSurrogate === at) {
        throw malformed(encoded, at, 'a surrogate pair written as two 3-byte sequences');
      }
      at += size;
      afterHighSurrogate = cp >= 0xd800 && cp < 0xdc00 ? at : -1;
      text += String.fromCodePoint(cp);
      run = at;
    }
  }
  parts.push(text + encoded.slice(run, end));
  return end + 1;
}

/** The code point of the `size`-byte UTF-8 sequence at `at`, whose lead byte was checked by the caller. */
function readUtf8(encoded: string, at: number, size: number): number {
  let cp = encoded.charCodeAt(at) & (0x7f >> size);
  for (let i = 1; i < size; i++) {
    const b = encoded.charCodeAt(at + i);
    if ((b & 0xc0) !== 0x80 || b > 0xff) throw malformed(encoded, at + i, 'a truncated UTF-8 sequence');
    cp = (cp << 6) | (b & 0x3f);
  }
  const min = size === 2 ? 0x80 : size === 3 ? 0x800 : 0x10000;
  if (cp < min || cp > 0x10ffff) throw malformed(encoded, at, `an overlong or out-of-range UTF-8 sequence for U+${cp.toString(16)}`);
  return cp;
}

/** The size of the UTF-8 sequence a lead byte starts, or 0 when it is not a lead byte. */
function utf8Size(lead: number): number {
  if (lead >= 0xc2 && lead < 0xe0) return 2;
  if (lead >= 0xe0 && lead < 0xf0) return 3;
  return lead >= 0xf0 && lead < 0xf5 ? 4 : 0;
}

function byteAt(encoded: string, at: number): number {
  const b = encoded.charCodeAt(at);
  if (b > 0xff) throw malformed(encoded, at, `char U+${b.toString(16)} is not a byte`);
  if (b !== b) throw malformed(encoded, at, 'the key ends inside a part');
  return b;
}

function malformed(encoded: string, at: number, what: string): SluiceError {
  return new SluiceError('STATE_CORRUPT', `Malformed store key at byte ${at}: ${what} (key bytes: ${keyBytesForMessage(encoded)}).`);
}
