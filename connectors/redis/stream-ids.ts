/*
 * Redis stream entry ids (`<ms>-<seq>`), compared as the pairs of integers they are.
 */

/** The id before every entry. */
export const BEFORE_FIRST = '0-0';

/** An id as [ms, seq]. */
function parse(id: string): [bigint, bigint] {
  const dash = id.indexOf('-');
  return dash < 0 ? [BigInt(id), 0n] : [BigInt(id.slice(0, dash)), BigInt(id.slice(dash + 1))];
}

/** Negative, zero or positive as `a` is before, equal to or after `b`. */
export function compareIds(a: string, b: string): number {
  const [am, as] = parse(a);
  const [bm, bs] = parse(b);
  if (am !== bm) return am < bm ? -1 : 1;
  return as === bs ? 0 : as < bs ? -1 : 1;
}

/** Whether `id` is an entry id (`<ms>-<seq>`). */
export function isEntryId(id: unknown): id is string {
  return typeof id === 'string' && /^\d+-\d+$/.test(id);
}

/** The ms part of an id: when Redis added the entry (for an id Redis generated). */
export function idTime(id: string): number {
  return Number(parse(id)[0]);
}
