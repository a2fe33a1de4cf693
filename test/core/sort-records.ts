/**
 * Helpers for comparing keyed outputs without depending on hash order: records are sorted by a
 * canonical text that tells types apart (`1` vs `'1'` vs `1n`).
 */

/** A canonical text for a record: JSON with bigints, `undefined` and `-0` marked. */
export function canonical(record: unknown): string {
  return JSON.stringify(record, (_key, value: unknown) => {
    if (typeof value === 'bigint') return `bigint:${value}`;
    if (value === undefined) return 'undefined';
    if (Object.is(value, -0)) return '-0';
    return value;
  });
}

/** The records of one batch, sorted by {@link canonical} (a copy). */
export function sortRecords<T>(records: readonly T[]): T[] {
  return [...records].sort((a, b) => {
    const x = canonical(a);
    const y = canonical(b);
    return x < y ? -1 : x > y ? 1 : 0;
  });
}

/** Every batch sorted by {@link sortRecords}. */
export function sortBatches<T>(batches: readonly (readonly T[])[]): T[][] {
  return batches.map((records) => sortRecords(records));
}
