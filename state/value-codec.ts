import { addExtension, Packr, RESERVE_START_SPACE } from 'msgpackr';
import { messageOf } from '../core/internal.js';
import { SluiceError } from 'sluice';
import { isPlainStateValue, walkStateValue } from './value-walk.js';
import { fromWire, Wire } from './value-wire.js';

export { registerValueType, type ValueType } from './value-type-registry.js';

/**
 * The first byte of every encoded value. Version 1 was the provisional codec (plain msgpackr with
 * structured clone), which this one cannot read.
 */
const ENVELOPE_VERSION = 2;

/**
 * The msgpack extension type of a {@link Wire}. msgpackr keeps extensions in one table per
 * process: no other code in the process may register this type.
 */
const WIRE_EXTENSION = 0x53;

/** Where the msgpack body starts. */
const AFTER_VERSION = { start: 1 } as const;

addExtension({ Class: Wire, type: WIRE_EXTENSION, write: (wire: Wire) => wire.payload, read: fromWire });

/**
 * msgpackr options, each on purpose: plain msgpack maps for plain objects (no records, no
 * structured-clone references: state is a tree), float64 for every non-int32 number, bigints of
 * any size (int64, else msgpackr's bigint extension), undefined kept apart from null, and binary
 * copied out of the input so a decoded Uint8Array owns its bytes. Everything msgpack would not
 * keep exactly (-0, Map, Set, special objects and strings, registered types) arrives as a Wire.
 */
const packr = new Packr({
  useRecords: false,
  structuredClone: false,
  moreTypes: false,
  mapsAsObjects: true,
  variableMapSize: true,
  useBigIntExtension: true,
  int64AsType: 'bigint',
  encodeUndefinedAsNil: false,
  copyBuffers: true,
});

/**
 * Throws a TypeError when `value` cannot be kept as state, naming the path of the bad part:
 * `state value.user.callback: a function cannot be kept as state; store plain data (...) or
 * register the class with registerValueType`. Call it when state is updated, so a bad value fails
 * there and not at a later checkpoint. It walks the value without encoding it.
 *
 * A state value is a tree of:
 * - `null`, `undefined`, booleans, strings (lone surrogates included), numbers (`-0`, `NaN` and
 *   the infinities included), bigints of any size;
 * - arrays without holes (only their elements are kept);
 * - plain objects, with prototype `Object.prototype` or `null`: their own enumerable string-keyed
 *   properties, read as values, in order; `__proto__`, `constructor` and the like are ordinary keys;
 * - `Map` and `Set` whose keys, values and elements are state values, in insertion order;
 * - `Date` (its time, an invalid Date included) and `Uint8Array` (its bytes);
 * - instances of classes registered with `registerValueType`.
 *
 * Not supported: functions, symbols, other classes (`Buffer`, other typed arrays, `WeakMap`,
 * `RegExp`, `Error`, subclasses of the above...), sparse arrays, cycles. Shared references are
 * stored as separate copies.
 *
 * @param what names the value in the message; `'state value'` by default.
 * @throws TypeError naming the path of the first part that cannot be kept.
 */
export function checkStateValue(value: unknown, what = 'state value'): void {
  if (!isPlainStateValue(value)) walkStateValue(value, what, 'check');
}

/**
 * Encodes a state value (see {@link checkStateValue} for the supported types) as bytes: the
 * envelope version, then msgpack. `decodeValue(encodeValue(v))` is `v` exactly: same types and
 * prototypes, `-0` and `NaN` kept, own keys and Map and Set entries in the same order.
 *
 * @throws TypeError when a part of the value cannot be kept as state, as {@link checkStateValue}.
 */
export function encodeValue(value: unknown): Uint8Array {
  // Plain data (most state: numbers, strings, flat objects, entry tuples) is what msgpack keeps
  // exactly as it is; only other values need the walk that checks them and wraps their parts.
  const body = packr.pack(isPlainStateValue(value) ? value : walkStateValue(value, 'state value', 'wire'));
  const bytes = new Uint8Array(body.length + 1);
  bytes[0] = ENVELOPE_VERSION;
  bytes.set(body, 1);
  return bytes;
}

/**
 * The bytes of {@link encodeValue}, written straight after the encodings before them in msgpackr's
 * own buffer (one byte reserved for the envelope) instead of copied into an array of their own:
 * the result is a view of a buffer shared with other results, and keeps all of it alive. For
 * bytes that are copied, then dropped, such as the values of a LevelDB batch; never mutate them.
 *
 * @throws TypeError as {@link encodeValue}.
 */
export function encodeValueShared(value: unknown): Uint8Array {
  const bytes = packr.pack(isPlainStateValue(value) ? value : walkStateValue(value, 'state value', 'wire'), RESERVE_START_SPACE | 1);
  bytes[0] = ENVELOPE_VERSION;
  return bytes;
}

/**
 * Decodes bytes made by {@link encodeValue}. The result shares no memory with `bytes`.
 *
 * @throws TypeError when `bytes` is not a Uint8Array; SluiceError `STATE_CORRUPT` saying what was
 * found when the envelope version is unknown, the bytes are not an encoded state value, a value's
 * type is not registered in this process, or a registered type's `decode` throws (its error is the
 * `cause`).
 */
export function decodeValue(bytes: Uint8Array): unknown {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('decodeValue takes the Uint8Array made by encodeValue.');
  if (bytes.length === 0) throw new SluiceError('STATE_CORRUPT', 'Cannot decode a state value: no bytes (expected the envelope version, then msgpack).');
  if (bytes[0] !== ENVELOPE_VERSION) {
    throw new SluiceError('STATE_CORRUPT', `Cannot decode a state value: unknown envelope version ${bytes[0]} (this version of sluice reads version ${ENVELOPE_VERSION}).`);
  }
  let value: unknown;
  try {
    // msgpackr copies binary out with the input's own slice, which for a Buffer would make Buffers.
    const body = Object.getPrototypeOf(bytes) === Uint8Array.prototype ? bytes : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    value = packr.unpack(body, AFTER_VERSION) as unknown;
    // msgpack written by other code can hold types encodeValue never writes (msgpackr's 0xc1, Error,
    // RegExp, typed array extensions).
    if (!isPlainStateValue(value)) walkStateValue(value, 'the decoded value', 'decoded');
  } catch (error) {
    throw new SluiceError('STATE_CORRUPT', `Cannot decode a state value (envelope version ${ENVELOPE_VERSION}, ${bytes.length} bytes): ${messageOf(error)}`, { cause: error });
  }
  return value;
}
