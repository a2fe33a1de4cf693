/**
 * How text outputs show a record: strings as they are, other primitives with `String`, arrays and
 * objects as JSON (bigints as their digits).
 */
export function formatRecord(record: unknown): string {
  if (typeof record === 'string') return record;
  if (typeof record !== 'object' || record === null) return String(record);
  return JSON.stringify(record, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value));
}
