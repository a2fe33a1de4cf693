/*
 * The assignment of a group's partitions to its live members: balanced (counts differ by at most
 * one), deterministic (a function of its inputs only, whatever order the members come in) and
 * sticky (a partition stays with its current holder whenever the balance allows). Every member
 * computes it from what it reads in the group's bucket, so they agree without a leader.
 */

/**
 * Assigns partitions `0 .. partitions - 1` to `members`: returns the member of each partition.
 *
 * Each member's quota is `floor(partitions / members)`, and the `partitions % members` spare ones
 * go to the members that hold most now (ties: the smaller id), so that as few partitions move as
 * possible. A member keeps its current partitions up to its quota (the lowest-numbered first);
 * the rest (held by no live member, or over a quota) go in partition order to the members under
 * quota, in id order. So when a member joins, only partitions it receives move; when one leaves,
 * only its own move; and an assignment given back as `current` is returned unchanged.
 *
 * @param partitions - how many partitions (a whole number of at least 0).
 * @param members - the live members' ids (any order; duplicates are ignored).
 * @param current - each partition's holder now (`undefined` for none); holders not in `members` count as none.
 * @returns each partition's member (all `undefined` when there is no member).
 * @throws RangeError when `partitions` is not a whole number of at least 0.
 */
export function assignPartitions(partitions: number, members: readonly string[], current: readonly (string | undefined)[] = []): (string | undefined)[] {
  if (!Number.isSafeInteger(partitions) || partitions < 0) throw new RangeError(`assignPartitions: partitions must be a whole number of at least 0, got ${String(partitions)}.`);
  const ids = [...new Set(members)].sort(compareIds);
  const out: (string | undefined)[] = new Array<string | undefined>(partitions).fill(undefined);
  if (ids.length === 0) return out;
  const held = new Map<string, number[]>(ids.map((id) => [id, []]));
  for (let p = 0; p < partitions; p++) {
    const holder = current[p];
    if (holder !== undefined) held.get(holder)?.push(p);
  }
  const base = Math.floor(partitions / ids.length);
  const spare = partitions % ids.length;
  const byHolding = [...ids].sort((a, b) => (held.get(b) as number[]).length - (held.get(a) as number[]).length || compareIds(a, b));
  const quota = new Map<string, number>(byHolding.map((id, i) => [id, base + (i < spare ? 1 : 0)]));
  const count = new Map<string, number>();
  for (const id of ids) {
    const keep = (held.get(id) as number[]).slice(0, quota.get(id));
    for (const p of keep) out[p] = id;
    count.set(id, keep.length);
  }
  let next = 0;
  for (let p = 0; p < partitions; p++) {
    if (out[p] !== undefined) continue;
    while ((count.get(ids[next] as string) as number) >= (quota.get(ids[next] as string) as number)) next++;
    const id = ids[next] as string;
    out[p] = id;
    count.set(id, (count.get(id) as number) + 1);
  }
  return out;
}

/** Ids in code-unit order (locale-independent, the same in every process). */
function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
