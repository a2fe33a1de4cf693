/*
 * How a JetStream message's payload becomes a record's value: `'json'`, `'text'`, `'bytes'` or a
 * function of the bytes and the subject.
 */

/** A decode function: the payload's bytes (and subject) to a value; a throw makes the message a bad record. */
export type MessageDecoder<V> = (data: Uint8Array, subject: string) => V;

/** How {@link jetStreamSource} decodes payloads: JSON, UTF-8 text, the bytes, or a function. */
export type MessageFormat<V> = 'json' | 'text' | 'bytes' | MessageDecoder<V>;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The decoder of `format`.
 *
 * @throws TypeError when `format` is none of the formats.
 */
export function decoderOf<V>(what: string, format: unknown): MessageDecoder<V> {
  switch (format) {
    case 'json':
      return ((data: Uint8Array) => JSON.parse(utf8.decode(data)) as unknown) as MessageDecoder<V>;
    case 'text':
      return ((data: Uint8Array) => utf8.decode(data)) as unknown as MessageDecoder<V>;
    case 'bytes':
      return ((data: Uint8Array) => data.slice()) as unknown as MessageDecoder<V>;
    default:
      if (typeof format === 'function') return format as MessageDecoder<V>;
      throw new TypeError(`${what}: format must be 'json', 'text', 'bytes' or a function (data: Uint8Array, subject: string) => value, got ${JSON.stringify(format)}.`);
  }
}

/** A payload as text for a bad record (at most 1000 characters; invalid UTF-8 replaced). */
export function rawText(data: Uint8Array): string {
  const text = new TextDecoder('utf-8').decode(data.length > 4000 ? data.subarray(0, 4000) : data);
  return text.length > 1000 ? `${text.slice(0, 1000)}…` : text;
}

/**
 * Whether `subject` matches the NATS subject `filter` (`*` one token, `>` one or more at the end).
 */
export function subjectMatches(filter: string, subject: string): boolean {
  const f = filter.split('.');
  const s = subject.split('.');
  for (let i = 0; i < f.length; i++) {
    const token = f[i];
    if (token === '>') return s.length > i;
    if (i >= s.length) return false;
    if (token !== '*' && token !== s[i]) return false;
  }
  return f.length === s.length;
}

/** Whether `subject` matches one of `filters`. */
export function matchesAny(filters: readonly string[], subject: string): boolean {
  for (const filter of filters) if (subjectMatches(filter, subject)) return true;
  return false;
}
