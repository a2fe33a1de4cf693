/**
 * The layout of an encoded key, shared by the key encoder and decoder.
 *
 * An encoded key is a binary string (one byte 0..255 per char), so `<` on encoded keys is byte
 * order. A single-part key is that part's encoding; an array key is ARRAY, then its parts'
 * encodings back to back with no terminator, so an array's leading parts encode to a prefix of it.
 * Each part is self-delimiting and starts with a tag; the tags fix the order across types:
 *
 *   array keys (0x01) < false (0x20) < true (0x21) < numbers (0x30)
 *     < negative bigints (0x40) < non-negative bigints (0x41) < strings (0x50)
 *
 * - number: the IEEE-754 double, big-endian, with the sign bit flipped for positives and every bit
 *   flipped for negatives, so byte order is numeric order. -0 is written as 0 and NaN as the one
 *   quiet NaN 0x7ff8000000000000, which sorts after +Infinity.
 * - bigint: the byte length of the magnitude (one byte below 255, else 0xff and four bytes), then
 *   the magnitude big-endian without leading zero bytes; a negative bigint has both complemented,
 *   so a larger magnitude sorts first. 0n has length 0.
 * - string: UTF-8 (a lone surrogate as its own 3-byte sequence, "WTF-8") with 0x00 written as
 *   0x01 0x01 and 0x01 as 0x01 0x02, then a 0x00 terminator. Byte order is code point order
 *   ('a' < 'a\0' < 'a\x01' < 'ab'), and as 0x00 occurs only as the terminator, no string's
 *   encoding is a prefix of another's: a prefix of parts matches only keys with those parts.
 *
 * Encodings are canonical (equal keys by value encode to equal strings) and the decoder accepts
 * only canonical input, so encodeKey(decodeKey(s)) === s whenever decodeKey(s) returns.
 */
export const ARRAY = 0x01;
export const FALSE = 0x20;
export const TRUE = 0x21;
export const NUMBER = 0x30;
export const BIGINT_NEGATIVE = 0x40;
export const BIGINT = 0x41;
export const STRING = 0x50;
/** Inside a string: 0x01 then 0x01 is a 0x00 byte, 0x01 then 0x02 is a 0x01 byte. */
export const ESCAPE = 0x01;
/** A bigint length byte saying that four length bytes follow. */
export const LONG_LENGTH = 0xff;

/** The bytes of `encoded` in hex, for error messages. */
export function keyBytesForMessage(encoded: string): string {
  let bytes = '';
  for (let i = 0; i < Math.min(encoded.length, 48); i++) bytes += `${i ? ' ' : ''}${hex2(encoded.charCodeAt(i))}`;
  return encoded.length > 48 ? `${bytes} ...` : bytes;
}

/** A byte as two hex digits. */
export function hex2(b: number): string {
  return b.toString(16).padStart(2, '0');
}

/** A short description of a value that is not a key, for error messages. */
export function describeNonKey(value: unknown): string {
  switch (typeof value) {
    case 'undefined':
      return 'undefined';
    case 'symbol':
      return value.toString();
    case 'function':
      return 'a function';
    case 'object':
      if (value === null) return 'null';
      if (Array.isArray(value)) return 'an array';
      return `an object (${Object.prototype.toString.call(value)})`;
    default:
      return `${typeof value} ${String(value)}`;
  }
}
