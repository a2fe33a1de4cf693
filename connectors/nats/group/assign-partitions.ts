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
 * `preferred` (standby replicas: {@link assignStandbys}) names, per partition, the members to give it
 * to first when it has to move: a partition without a kept holder goes to the first of them that
 * is live and under quota, before the others are filled in id order. The laws above still hold.
 *
 * @param partitions - how many partitions (a whole number of at least 0).
 * @param members - the live members' ids (any order; duplicates are ignored).
 * @param current - each partition's holder now (`undefined` for none); holders not in `members` count as none.
 * @param preferred - per partition, the members that should take it first when it moves (its standbys), in order.
 * @returns each partition's member (all `undefined` when there is no member).
 * @throws RangeError when `partitions` is not a whole number of at least 0.
 */
export function assignPartitions(partitions: number, members: readonly string[], current: readonly (string | undefined)[] = [], preferred: readonly (readonly string[] | undefined)[] = []): (string | undefined)[] {
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
  for (let p = 0; p < partitions; p++) {
    if (out[p] !== undefined) continue;
    for (const id of preferred[p] ?? []) {
      const has = count.get(id);
      if (has === undefined || has >= (quota.get(id) as number)) continue;
      out[p] = id;
      count.set(id, has + 1);
      break;
    }
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

/**
 * Chooses up to `replicas` standby members for each partition (Kafka Streams' standby replicas):
 * members that keep a warm copy of the partition's state and take it first when its owner goes.
 * Never the partition's owner, never a member twice; `min(replicas, members - 1)` each when the
 * owner is a member. Balanced: partition by partition, the standby goes to the eligible member
 * with the fewest standbys so far, ties broken by the member's distance after the owner in id
 * order (so that one owner's partitions spread their standbys), then by id. Deterministic: a
 * function of its inputs only, whatever order the members come in.
 *
 * @param partitions - how many partitions (a whole number of at least 0).
 * @param members - the live members' ids (any order; duplicates are ignored).
 * @param owners - each partition's owner (as {@link assignPartitions} returns).
 * @param replicas - how many standbys a partition should have (a whole number of at least 0).
 * @returns each partition's standbys, in order of preference.
 * @throws RangeError when `partitions` or `replicas` is not a whole number of at least 0.
 */
export function assignStandbys(partitions: number, members: readonly string[], owners: readonly (string | undefined)[], replicas: number): string[][] {
  if (!Number.isSafeInteger(partitions) || partitions < 0) throw new RangeError(`assignStandbys: partitions must be a whole number of at least 0, got ${String(partitions)}.`);
  if (!Number.isSafeInteger(replicas) || replicas < 0) throw new RangeError(`assignStandbys: replicas must be a whole number of at least 0, got ${String(replicas)}.`);
  const ids = [...new Set(members)].sort(compareIds);
  const count = new Array<number>(ids.length).fill(0);
  const out: number[][] = [];
  for (let p = 0; p < partitions; p++) {
    const owner = owners[p];
    const at = owner === undefined ? -1 : ids.indexOf(owner);
    const chosen: number[] = [];
    const want = Math.min(replicas, ids.length - (at < 0 ? 0 : 1));
    while (chosen.length < want) {
      let best = -1;
      for (let step = 1; step <= ids.length; step++) {
        const i = (Math.max(at, 0) + step - (at < 0 ? 1 : 0)) % ids.length;
        if (i === at || chosen.includes(i)) continue;
        if (best < 0 || (count[i] as number) < (count[best] as number)) best = i;
      }
      chosen.push(best);
      count[best] = (count[best] as number) + 1;
    }
    out.push(chosen);
  }
  rebalance(out, owners.map((o) => (o === undefined ? -1 : ids.indexOf(o))), count);
  return out.map((chosen) => chosen.map((i) => ids[i] as string));
}

/**
 * Moves standbys from the fullest members to the emptiest until their counts differ by at most
 * one (the greedy pass can leave two when an owner was the emptiest): each move takes, in
 * partition order, a standby slot of a fullest member whose partition the emptiest neither owns
 * nor stands by for. Deterministic, and each move narrows the spread, so it ends.
 */
function rebalance(standbys: number[][], owners: readonly number[], count: number[]): void {
  for (;;) {
    const order = count.map((_, i) => i).sort((a, b) => (count[a] as number) - (count[b] as number) || a - b);
    let moved = false;
    search: for (const lo of order) {
      for (let h = order.length - 1; h >= 0; h--) {
        const hi = order[h] as number;
        if ((count[hi] as number) - (count[lo] as number) < 2) break;
        for (let p = 0; p < standbys.length; p++) {
          const chosen = standbys[p] as number[];
          const slot = chosen.indexOf(hi);
          if (slot < 0 || owners[p] === lo || chosen.includes(lo)) continue;
          chosen[slot] = lo;
          count[hi] = (count[hi] as number) - 1;
          count[lo] = (count[lo] as number) + 1;
          moved = true;
          break search;
        }
      }
    }
    if (!moved) return;
  }
}

/** Ids in code-unit order (locale-independent, the same in every process). */
function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
