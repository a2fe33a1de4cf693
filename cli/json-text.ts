/*
 * JSON in and out of the command line: keys given as arguments, and values of any state type
 * written as JSON.
 */

/**
 * A key or prefix given on the command line (`--key`, `--prefix`, and the monitor's `key=` and
 * `prefix=`): parsed as JSON when it parses as a JSON number, string or array (`42`, `"42"`,
 * `["card-1", 7]`), else the raw string (`user-1`).
 */
export function parseKeyArgument(text: string): string | number | unknown[] {
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'number' || typeof parsed === 'string' || Array.isArray(parsed)) return parsed as string | number | unknown[];
  } catch {
    // not JSON: the raw string
  }
  return text;
}

/**
 * JSON of a value of any state type, with what JSON cannot carry written readably: bigints as
 * `"123n"`, maps as `{ "$map": [[key, value], ...] }`, sets as `{ "$set": [...] }`, bytes as
 * `{ "$bytes": "<hex>" }`, dates as their ISO text; `undefined` as `null` (a stable shape).
 */
export function toJson(value: unknown, indent?: number): string {
  return JSON.stringify(value, replace, indent);
}

function replace(this: unknown, key: string, value: unknown): unknown {
  // Date.prototype.toJSON has run by now: read the original from the holder.
  const original = (this as Record<string, unknown>)[key];
  if (original instanceof Date) return Number.isNaN(original.getTime()) ? 'Invalid Date' : original.toISOString();
  if (typeof value === 'bigint') return `${value}n`;
  if (value instanceof Map) return { $map: [...value] };
  if (value instanceof Set) return { $set: [...value] };
  if (value instanceof Uint8Array) return { $bytes: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex') };
  return value ?? null;
}
