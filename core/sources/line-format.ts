import { messageOf } from '../errors.js';
import type { BadRecord } from './source.js';

/**
 * How a line-based source (files, sockets) turns a line into a record:
 * - `'text'` keeps the line;
 * - `'ndjson'` parses it as JSON and takes only objects: a line that is valid JSON but not an
 *   object (`null`, `42`, `"s"`, `[1, 2]`) is a bad record, since a stream of NDJSON events is a
 *   stream of objects and a stray scalar would otherwise reach operators typed for objects;
 * - `'json-values'` parses it as JSON and takes any JSON value (for streams of numbers, strings
 *   or arrays);
 * - a function parses it any way it likes and throws on bad input.
 */
export type LineFormat<T> = 'text' | 'ndjson' | 'json-values' | ((line: string) => T);

/**
 * Checks a parsed record: a type guard (`(value) => value is T`, where `false` rejects the
 * record), or a schema library's parse function (zod's `schema.parse`, valibot's
 * `v.parser(schema)`, ...) that returns the record, possibly transformed, or throws. A function
 * that returns a boolean is taken as a type guard. A rejected record is a bad record whose reason
 * is the validator's message.
 */
export type RecordValidator<T> = ((value: unknown) => value is T) | ((value: unknown) => T);

/** The options of a line-based source that say what a line becomes. */
export interface LineRecordOptions<T> {
  /** How a line becomes a record: `'text'` (default), `'ndjson'`, `'json-values'` or a parse function. See {@link LineFormat}. */
  readonly format?: LineFormat<T>;
  /**
   * Checks each record after `format` parsed it (default: none), so that a source typed
   * `Source<T>` only gives records that are `T`: a record it rejects is a bad record, with the
   * validator's message as the reason, and follows the source's `badRecords` policy. See
   * {@link RecordValidator}.
   */
  readonly validate?: RecordValidator<T>;
}

/**
 * Turns a {@link LineFormat} and an optional validator into a parse function that throws on a bad line.
 *
 * @throws TypeError for an unknown format or a validator that is not a function.
 */
export function lineParser<T>(format: LineFormat<T>, validate?: RecordValidator<T>): (line: string) => T {
  const parse = formatParser(format);
  if (validate === undefined) return parse;
  if (typeof validate !== 'function') throw new TypeError(`validate must be a type guard or a parse function of the record, got ${typeof validate}.`);
  return (line) => validated(parse(line), validate);
}

function formatParser<T>(format: LineFormat<T>): (line: string) => T {
  if (format === 'text') return (line) => line as T;
  if (format === 'ndjson') return parseObject as (line: string) => T;
  if (format === 'json-values') return (line) => JSON.parse(line) as T;
  if (typeof format === 'function') return format;
  throw new TypeError(`format must be 'text', 'ndjson', 'json-values' or a function of the line, got ${JSON.stringify(format)}.`);
}

function parseObject(line: string): object {
  const value: unknown = JSON.parse(line);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    const what = value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;
    throw new TypeError(`an NDJSON record must be a JSON object, got ${what} (use format 'json-values' to take any JSON value)`);
  }
  return value;
}

function validated<T>(value: unknown, validate: RecordValidator<T>): T {
  const result = validate(value);
  if (result === true) return value as T;
  if (result === false) throw new TypeError(`rejected by validate${validate.name === '' ? '' : ` (${validate.name})`}`);
  return result;
}

/**
 * A line longer than a source's `maxLineLength` is kept as this placeholder: `'\n'`, its length
 * in bytes, `'\n'`, the limit, `'\n'`, then its first bytes. No line holds a `'\n'` (lines are
 * split on it), so the placeholder cannot be mistaken for a line, and it goes through a
 * write-ahead log like any line.
 */
export function tooLongLine(head: string, bytes: number, maxLineLength: number): string {
  return `\n${bytes}\n${maxLineLength}\n${head}`;
}

/** The raw text and reason of a bad record for a {@link tooLongLine} placeholder. */
function tooLongRecord(placeholder: string): { raw: string; reason: string } {
  const [, bytes, max, ...head] = placeholder.split('\n');
  const raw = head.join('\n');
  return { raw, reason: `the line is ${bytes} bytes long, more than maxLineLength (${max} bytes); its beginning is kept (in raw), the rest was discarded unread` };
}

/**
 * Parses `lines` into records, collecting the ones that fail as bad records; blank lines of an
 * NDJSON or custom format are skipped.
 *
 * @param location - names where line `i` came from (`file:line`).
 */
export function parseLines<T>(
  lines: readonly string[],
  parse: (line: string) => T,
  source: string,
  skipBlank: boolean,
  location: (index: number) => string,
): { records: T[]; badRecords: BadRecord[] } {
  const records: T[] = [];
  const badRecords: BadRecord[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line.charCodeAt(0) === 10) {
      badRecords.push({ source, ...tooLongRecord(line), location: location(i) });
      continue;
    }
    if (skipBlank && line.trim() === '') continue;
    try {
      records.push(parse(line));
    } catch (error) {
      badRecords.push({ source, raw: line, reason: messageOf(error), location: location(i) });
    }
  }
  return { records, badRecords };
}
