import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assignPartitions, assignStandbys } from 'sluice/nats';

/*
 * The laws of standby replicas: each partition gets min(replicas, members - 1) standbys, never
 * its owner, never one member twice, all live; standby counts within one of each other;
 * deterministic whatever the members' order; and with standbys as the preference, a leaver's
 * partitions go to their standbys whenever the balance allows, the assignment's laws intact. A
 * failure prints its seed (FC_SEED replays it).
 */

const ids = fc.uniqueArray(fc.stringMatching(/^[a-z0-9]{1,4}$/), { minLength: 1, maxLength: 7 });
const setting = fc.tuple(fc.integer({ min: 0, max: 40 }), ids, fc.integer({ min: 0, max: 4 }));

/** Each member's standby count. */
function standbyCounts(standbys: readonly (readonly string[])[], members: readonly string[]): number[] {
  return members.map((m) => standbys.filter((s) => s.includes(m)).length);
}

describe('assignStandbys', () => {
  it('gives each partition min(replicas, members - 1) distinct live standbys, never its owner, counts within one', () => {
    fc.assert(
      fc.property(setting, ([n, members, replicas]) => {
        const owners = assignPartitions(n, members);
        const standbys = assignStandbys(n, members, owners, replicas);
        expect(standbys).toHaveLength(n);
        for (let p = 0; p < n; p++) {
          const s = standbys[p] as string[];
          expect(s).toHaveLength(Math.min(replicas, members.length - 1));
          expect(new Set(s).size).toBe(s.length);
          expect(s).not.toContain(owners[p]);
          for (const m of s) expect(members).toContain(m);
        }
        const c = standbyCounts(standbys, members);
        expect(Math.max(...c) - Math.min(...c)).toBeLessThanOrEqual(1);
      }),
    );
  });

  it('is deterministic: the same whatever the order of the members', () => {
    fc.assert(
      fc.property(setting.chain(([n, members, replicas]) => fc.tuple(fc.constant(n), fc.constant(members), fc.constant(replicas), fc.shuffledSubarray(members, { minLength: members.length }))), ([n, members, replicas, shuffled]) => {
        const owners = assignPartitions(n, members);
        expect(assignStandbys(n, shuffled, owners, replicas)).toEqual(assignStandbys(n, members, owners, replicas));
      }),
    );
  });

  it('as the preference: a leaver\'s partitions go to a standby when its quota allows; only the leaver\'s move; still balanced', () => {
    fc.assert(
      fc.property(setting.chain(([n, members, replicas]) => fc.tuple(fc.constant(n), fc.constant(members), fc.constant(Math.max(1, replicas)), fc.nat({ max: members.length - 1 }))), ([n, members, replicas, leaverIndex]) => {
        const owners = assignPartitions(n, members);
        const standbys = assignStandbys(n, members, owners, replicas);
        const leaver = members[leaverIndex] as string;
        const rest = members.filter((m) => m !== leaver);
        const after = assignPartitions(n, rest, owners, standbys);
        expect(after).toEqual(assignPartitions(n, [...rest].reverse(), owners, standbys));
        const quota = Math.ceil(n / Math.max(1, rest.length));
        for (let p = 0; p < n; p++) {
          if (owners[p] !== leaver) {
            expect(after[p]).toBe(owners[p]);
            continue;
          }
          if (rest.length === 0) continue;
          // Not a standby: every standby of p was full.
          if (!(standbys[p] as string[]).includes(after[p] as string)) for (const s of standbys[p] as string[]) expect(after.filter((a) => a === s).length).toBeGreaterThanOrEqual(quota - 1);
        }
        if (rest.length > 0) {
          const c = rest.map((m) => after.filter((a) => a === m).length);
          expect(Math.max(...c) - Math.min(...c)).toBeLessThanOrEqual(1);
        }
      }),
    );
  });

  it('two members, one standby: each partition\'s standby is the other member; none with one member or none asked', () => {
    const owners = assignPartitions(4, ['a', 'b']);
    expect(assignStandbys(4, ['b', 'a'], owners, 1)).toEqual(owners.map((o) => [o === 'a' ? 'b' : 'a']));
    expect(assignStandbys(4, ['a'], ['a', 'a', 'a', 'a'], 2)).toEqual([[], [], [], []]);
    expect(assignStandbys(2, ['a', 'b'], ['a', 'b'], 0)).toEqual([[], []]);
    expect(() => assignStandbys(2, ['a'], [], -1)).toThrow(RangeError);
  });
});
