import { messageOf } from '../errors.js';
import type { BadRecord } from './source.js';

/**
 * How a line-based source (files, sockets) turns a line into a record: `'text'` keeps the line,
 * `'ndjson'` parses it as JSON, a function parses it any way it likes and throws on bad input.
 */
export type LineFormat<T> = 'text' | 'ndjson' | ((line: string) => T);

/** Turns a {@link LineFormat} into a parse function. */
export function lineParser<T>(format: LineFormat<T>): (line: string) => T {
  if (format === 'text') return (line) => line as T;
  if (format === 'ndjson') return (line) => JSON.parse(line) as T;
  if (typeof format === 'function') return format;
  throw new TypeError(`format must be 'text', 'ndjson' or a function of the line, got ${JSON.stringify(format)}.`);
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
    if (skipBlank && line.trim() === '') continue;
    try {
      records.push(parse(line));
    } catch (error) {
      badRecords.push({ source, raw: line, reason: messageOf(error), location: location(i) });
    }
  }
  return { records, badRecords };
}
