import { valueTypeNamed } from './value-type-registry.js';

/**
 * A part of a state value that msgpack cannot carry exactly by itself, wrapped: the value codec
 * writes it as one msgpack extension whose body is `payload`, `[kind, ...data]`.
 */
export class Wire {
  constructor(readonly payload: readonly unknown[]) {}
}

/** The kinds of {@link Wire}; stored in encoded state, so never renumber them. */
export const NEGATIVE_ZERO = 0;
export const MAP = 1; // [MAP, key, value, key, value, ...]
export const SET = 2; // [SET, element, ...]
export const OBJECT = 3; // [OBJECT, key, value, ...]: an object msgpack's own maps would not keep exactly
export const NULL_PROTOTYPE_OBJECT = 4; // [NULL_PROTOTYPE_OBJECT, key, value, ...]
export const UTF16_STRING = 5; // [UTF16_STRING, big-endian UTF-16 bytes]: a string with a lone surrogate
export const REGISTERED = 6; // [REGISTERED, name, encoded instance]

/** The wrapped `-0`. */
export const NEGATIVE_ZERO_WIRE = new Wire([NEGATIVE_ZERO]);

/** Wraps a string that has a lone surrogate (UTF-8, and so msgpack, cannot carry it). */
export function utf16Wire(text: string): Wire {
  const bytes = new Uint8Array(text.length * 2);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    bytes[2 * i] = c >> 8;
    bytes[2 * i + 1] = c & 0xff;
  }
  return new Wire([UTF16_STRING, bytes]);
}

/**
 * Rebuilds the value of a {@link Wire} from its decoded payload (the payload's own parts are
 * already rebuilt: msgpackr decodes inside out).
 *
 * @throws Error when the payload is not one a Wire writes.
 */
export function fromWire(payload: unknown): unknown {
  if (!Array.isArray(payload) || typeof payload[0] !== 'number') throw corrupt('a wrapped value without its kind');
  const kind = payload[0];
  switch (kind) {
    case NEGATIVE_ZERO:
      return -0;
    case MAP: {
      if (payload.length % 2 !== 1) throw corrupt('a Map with a key and no value');
      const map = new Map<unknown, unknown>();
      for (let i = 1; i < payload.length; i += 2) map.set(payload[i], payload[i + 1]);
      return map;
    }
    case SET:
      return new Set(payload.slice(1));
    case OBJECT:
      return objectFrom(payload, {});
    case NULL_PROTOTYPE_OBJECT:
      return objectFrom(payload, Object.create(null) as object);
    case UTF16_STRING:
      return stringFrom(payload[1]);
    case REGISTERED: {
      const name: unknown = payload[1];
      const registered = typeof name === 'string' ? valueTypeNamed(name) : undefined;
      if (registered === undefined) {
        throw new Error(`a value of type '${String(name)}', which is not registered: call registerValueType for it before reading this state`);
      }
      return registered.decode(payload[2]);
    }
    default:
      throw corrupt(`unknown wrapped value kind ${kind}`);
  }
}

/** Defines the entries as own data properties, so `__proto__` is a key like any other. */
function objectFrom(payload: readonly unknown[], object: object): object {
  if (payload.length % 2 !== 1) throw corrupt('an object with a key and no value');
  for (let i = 1; i < payload.length; i += 2) {
    const key = payload[i];
    if (typeof key !== 'string') throw corrupt(`an object key of type ${typeof key}`);
    Object.defineProperty(object, key, { value: payload[i + 1], writable: true, enumerable: true, configurable: true });
  }
  return object;
}

function stringFrom(bytes: unknown): string {
  if (!(bytes instanceof Uint8Array) || bytes.length % 2 !== 0) throw corrupt('a UTF-16 string that is not an even number of bytes');
  let text = '';
  for (let i = 0; i < bytes.length; i += 2) text += String.fromCharCode(((bytes[i] as number) << 8) | (bytes[i + 1] as number));
  return text;
}

function corrupt(what: string): Error {
  return new Error(`${what} (the bytes are damaged or were not written by encodeValue)`);
}
