import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assignPartitions } from 'sluice/nats';

/*
 * The laws of the group's assignment: balanced within one, every partition assigned to a live
 * member, deterministic whatever the members' order, a fixed point (an assignment given back
 * comes back unchanged), and sticky (a join moves partitions only to the newcomer, at most its
 * fair share; a leave moves only the leaver's). A failure prints its seed (FC_SEED replays it).
 */

const ids = fc.uniqueArray(fc.stringMatching(/^[a-z0-9]{1,4}$/), { minLength: 1, maxLength: 7 });
const partitions = fc.integer({ min: 0, max: 40 });

/** Each member's count in `assignment`. */
function counts(assignment: readonly (string | undefined)[], members: readonly string[]): number[] {
  return members.map((m) => assignment.filter((a) => a === m).length);
}

/** How many partitions have another holder in `b` than in `a`. */
function moved(a: readonly (string | undefined)[], b: readonly (string | undefined)[]): number {
  return a.reduce((n, holder, p) => (holder === b[p] ? n : n + 1), 0);
}

/** Some earlier holders, possibly of members that are gone. */
const previous = (n: number, members: readonly string[]): fc.Arbitrary<(string | undefined)[]> =>
  fc.array(fc.option(fc.constantFrom(...members, 'gone1', 'gone2'), { nil: undefined }), { minLength: n, maxLength: n });

/** A number of partitions, members, earlier holders. */
const setting = partitions.chain((n) => ids.chain((members) => fc.tuple(fc.constant(n), fc.constant(members), previous(n, members))));

describe('assignPartitions', () => {
  it('assigns every partition to a live member, counts within one of each other, from any earlier holders', () => {
    fc.assert(
      fc.property(setting, ([n, members, before]) => {
        const after = assignPartitions(n, members, before);
        expect(after).toHaveLength(n);
        for (const holder of after) expect(members).toContain(holder);
        const c = counts(after, members);
        expect(Math.max(...c) - Math.min(...c)).toBeLessThanOrEqual(1);
      }),
    );
  });

  it('is deterministic: the same whatever the order of the members, and a fixed point of itself', () => {
    fc.assert(
      fc.property(partitions.chain((n) => ids.chain((members) => fc.tuple(fc.constant(n), fc.constant(members), previous(n, members), fc.shuffledSubarray(members, { minLength: members.length })))), ([n, members, before, shuffled]) => {
        const after = assignPartitions(n, members, before);
        expect(assignPartitions(n, shuffled, before)).toEqual(after);
        expect(assignPartitions(n, members, after)).toEqual(after);
      }),
    );
  });

  it('is sticky: a join moves partitions only to the newcomer, no more than its share; a leave moves only the leaver\'s', () => {
    fc.assert(
      fc.property(partitions.chain((n) => ids.chain((members) => fc.tuple(fc.constant(n), fc.constant(members), previous(n, members), fc.nat({ max: members.length - 1 })))), ([n, members, before, leaverIndex]) => {
        const settled = assignPartitions(n, members, before);
        const newcomer = 'zzzzz';
        const joined = assignPartitions(n, [...members, newcomer], settled);
        for (let p = 0; p < n; p++) if (joined[p] !== settled[p]) expect(joined[p]).toBe(newcomer);
        expect(moved(settled, joined)).toBeLessThanOrEqual(Math.ceil(n / (members.length + 1)));
        expect(moved(settled, joined)).toBeGreaterThanOrEqual(Math.floor(n / (members.length + 1)));

        const leaver = members[leaverIndex] as string;
        const left = assignPartitions(n, members.filter((m) => m !== leaver), settled);
        for (let p = 0; p < n; p++) if (left[p] !== settled[p]) expect(settled[p]).toBe(leaver);
      }),
    );
  });

  it('spreads 12 partitions over three members 4, 4, 4, and gives none to nobody', () => {
    expect(counts(assignPartitions(12, ['c', 'a', 'b']), ['a', 'b', 'c'])).toEqual([4, 4, 4]);
    expect(assignPartitions(12, ['c', 'a', 'b']).slice(0, 5)).toEqual(['a', 'a', 'a', 'a', 'b']);
    expect(assignPartitions(3, [])).toEqual([undefined, undefined, undefined]);
    expect(() => assignPartitions(-1, ['a'])).toThrow(RangeError);
  });
});
