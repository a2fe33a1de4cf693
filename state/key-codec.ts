/**
 * The key codec: keys to order-preserving binary strings and back. The layout is described in
 * key-layout.ts; decoding lives in key-decoder.ts.
 */
import type { Key, KeyPart } from 'sluice';
import { ARRAY, BIGINT, BIGINT_NEGATIVE, describeNonKey, ESCAPE, FALSE, LONG_LENGTH, NUMBER, STRING, TRUE } from './key-layout.js';
import type { StoreKey } from './state-store.js';

export { decodeKey } from './key-decoder.js';

// eslint-disable-next-line no-control-regex -- 0x00 and 0x01 are the bytes a string escapes.
const NEEDS_BYTES = /[\x00\x01\x80-\uffff]/;
const STRING_START = String.fromCharCode(STRING);
const STRING_END = '\x00';
const KEY_RULE = 'a key is a string, number, bigint or boolean, or an array of these (arrays do not nest)';

/** The encoding buffer, reused by every call (the codecs are synchronous and call no user code). */
let out = Buffer.allocUnsafeSlow(256);
let length = 0;

/**
 * Encodes a key as an order-preserving {@link StoreKey}: byte order of encoded keys of the same
 * shape and types is the keys' natural order (numbers and bigints numerically, strings by code
 * point, arrays part by part, `false < true`). Across types, array keys sort before single keys,
 * and parts sort `false < true < numbers < bigints < strings`. `1` and `1n` are different keys;
 * `-0` encodes as `0`; every `NaN` encodes alike, after `Infinity`.
 *
 * @throws TypeError when `key` is not a {@link Key}.
 * @example encodeKey(['card-1', 42]) < encodeKey(['card-1', 100]) // true
 */
export function encodeKey(key: Key): StoreKey {
  // A string that is its own UTF-8 with no byte to escape needs no byte buffer.
  if (typeof key === 'string' && !NEEDS_BYTES.test(key)) return STRING_START + key + STRING_END;
  length = 0;
  if (Array.isArray(key)) {
    writeParts(key as readonly unknown[]);
  } else {
    writePart(key, -1);
  }
  return finish();
}

/**
 * The encoding of an array key's leading `parts`: exactly the keys that are arrays starting with
 * these parts encode to strings starting with it, so it is the `prefix` of a `KeyRange`
 * scan. `encodeKeyPrefix(['card-1'])` matches `['card-1']` and `['card-1', 42]`, not
 * `['card-10']` and not the single key `'card-1'`.
 *
 * @throws TypeError when a part is not a {@link KeyPart}.
 */
export function encodeKeyPrefix(parts: readonly KeyPart[]): StoreKey {
  if (!Array.isArray(parts)) throw new TypeError(`Key prefix ${describeNonKey(parts)} is not allowed: a prefix is an array of key parts.`);
  length = 0;
  writeParts(parts);
  return finish();
}

/** The bytes of a {@link StoreKey} (latin1), for stores such as LevelDB that keep binary keys. */
export function storeKeyToBytes(key: StoreKey): Uint8Array {
  const bytes = new Uint8Array(key.length);
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if (c > 0xff) throw new TypeError(`Not a StoreKey: char ${i} is U+${c.toString(16)}, above 0xff. Build keys with encodeKey.`);
    bytes[i] = c;
  }
  return bytes;
}

/** The {@link StoreKey} whose bytes are `bytes` (latin1); the inverse of {@link storeKeyToBytes}. */
export function bytesToStoreKey(bytes: Uint8Array): StoreKey {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

function writeParts(parts: readonly unknown[]): void {
  reserve(1);
  out[length++] = ARRAY;
  for (let i = 0; i < parts.length; i++) writePart(parts[i], i);
}

/** Writes one part; `index` is its place in an array key, or -1 for a single-part key. */
function writePart(part: unknown, index: number): void {
  switch (typeof part) {
    case 'boolean':
      reserve(1);
      out[length++] = part ? TRUE : FALSE;
      return;
    case 'number':
      writeNumber(part);
      return;
    case 'bigint':
      writeBigint(part);
      return;
    case 'string':
      writeString(part);
      return;
    default:
      throw new TypeError(index < 0 ? `Key ${describeNonKey(part)} is not allowed: ${KEY_RULE}.` : `Key part ${index} (${describeNonKey(part)}) is not allowed: ${KEY_RULE}.`);
  }
}

function writeNumber(value: number): void {
  reserve(9);
  out[length] = NUMBER;
  const at = length + 1;
  if (value !== value) {
    out.writeUInt32BE(0x7ff80000, at);
    out.writeUInt32BE(0, at + 4);
  } else {
    out.writeDoubleBE(value === 0 ? 0 : value, at);
  }
  if ((out[at] as number) & 0x80) {
    for (let i = at; i < at + 8; i++) out[i] = ~(out[i] as number);
  } else {
    out[at] = (out[at] as number) | 0x80;
  }
  length = at + 8;
}

function writeBigint(value: bigint): void {
  const negative = value < 0n;
  const hex = (negative ? -value : value).toString(16);
  const size = value === 0n ? 0 : (hex.length + 1) >> 1;
  const flip = negative ? 0xff : 0;
  reserve(6 + size);
  out[length++] = negative ? BIGINT_NEGATIVE : BIGINT;
  if (size < LONG_LENGTH) {
    out[length++] = size ^ flip;
  } else {
    out[length++] = LONG_LENGTH ^ flip;
    out.writeUInt32BE((size ^ (negative ? 0xffffffff : 0)) >>> 0, length);
    length += 4;
  }
  // An odd number of hex digits: the first byte has one digit.
  let digit = hex.length & 1 ? -1 : 0;
  for (let i = 0; i < size; i++) {
    const high = digit < 0 ? 0 : hexValue(hex.charCodeAt(digit));
    const low = hexValue(hex.charCodeAt(digit + 1));
    out[length++] = ((high << 4) | low) ^ flip;
    digit += 2;
  }
}

function hexValue(c: number): number {
  return c <= 0x39 ? c - 0x30 : c - 0x57;
}

function writeString(value: string): void {
  reserve(2 + 3 * value.length);
  out[length++] = STRING;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c > ESCAPE && c < 0x80) {
      out[length++] = c;
    } else if (c <= ESCAPE) {
      out[length++] = ESCAPE;
      out[length++] = c + 1;
    } else if (c < 0x800) {
      out[length++] = 0xc0 | (c >> 6);
      out[length++] = 0x80 | (c & 0x3f);
    } else {
      const next = c >= 0xd800 && c < 0xdc00 ? value.charCodeAt(i + 1) : 0;
      if (next >= 0xdc00 && next < 0xe000) {
        const cp = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
        out[length++] = 0xf0 | (cp >> 18);
        out[length++] = 0x80 | ((cp >> 12) & 0x3f);
        out[length++] = 0x80 | ((cp >> 6) & 0x3f);
        out[length++] = 0x80 | (cp & 0x3f);
        i++;
      } else {
        out[length++] = 0xe0 | (c >> 12);
        out[length++] = 0x80 | ((c >> 6) & 0x3f);
        out[length++] = 0x80 | (c & 0x3f);
      }
    }
  }
  out[length++] = 0;
}

function reserve(bytes: number): void {
  if (length + bytes <= out.length) return;
  const bigger = Buffer.allocUnsafeSlow(Math.max(out.length * 2, length + bytes));
  out.copy(bigger, 0, 0, length);
  out = bigger;
}

function finish(): StoreKey {
  const key = out.toString('latin1', 0, length);
  // Give back the memory of an unusually large key.
  if (out.length > 65_536) out = Buffer.allocUnsafeSlow(256);
  return key;
}
