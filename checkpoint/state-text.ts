import type { Key } from 'sluice';

/*
 * Keys given as text and state written as JSON, shared by the `sluice` command (`--key`,
 * `--prefix`, `--json`) and a job's monitor (`key=`, `prefix=`, `/api/state/`), so both read and
 * print the same.
 */

/**
 * A key or prefix given as text (`sluice state --key`, `--prefix`; the monitor's `key=` and
 * `prefix=`): the JSON number, string or array it spells (`42`, `"42"`, `["card-1", 7]`), or
 * else the raw text (`card-1` and `"card-1"` are the same key; `42` is the number, `"42"` the
 * string). The array's parts are not checked here: encoding the key does that.
 */
export function parseKeyArgument(text: string): Key {
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'number' || typeof parsed === 'string' || Array.isArray(parsed)) return parsed as Key;
  } catch {
    // not JSON: the raw text is the key
  }
  return text;
}

/**
 * JSON of a value of any state type, with what JSON cannot carry written readably: bigints as
 * `"123n"`, maps as `{ "$map": [[key, value], ...] }`, sets as `{ "$set": [...] }`, bytes as
 * `{ "$bytes": "<hex>" }`, dates as their ISO text; `undefined` as `null` (a stable shape).
 *
 * @example stateToJson({ n: 12n, seen: new Set(['a']) }) // '{"n":"12n","seen":{"$set":["a"]}}'
 */
export function stateToJson(value: unknown, indent?: number): string {
  return JSON.stringify(value, replace, indent);
}

function replace(this: unknown, key: string, value: unknown): unknown {
  // Date.prototype.toJSON has run by now: read the original from the holder.
  const original = (this as Record<string, unknown>)[key];
  if (original instanceof Date) return Number.isNaN(original.getTime()) ? 'Invalid Date' : original.toISOString();
  if (typeof value === 'bigint') return `${value}n`;
  if (value instanceof Map) return { $map: [...(value as Map<unknown, unknown>)] };
  if (value instanceof Set) return { $set: [...(value as Set<unknown>)] };
  if (value instanceof Uint8Array) return { $bytes: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex') };
  return value ?? null;
}
