import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JoinBuffer, LEFT, RIGHT, type Side } from '../../../windows/event-time/join-buffer.js';

/** The buffer's content as plain data: side → key → [t, v, m][] in order, keys sorted. */
function contents(buffer: JoinBuffer): Record<string, [number, unknown, number][]> {
  const out: Record<string, [number, unknown, number][]> = {};
  for (const side of [LEFT, RIGHT] as const) {
    for (const key of ['a', 'b', 'c']) {
      const b = buffer.get(side, key);
      if (b !== undefined) out[`${side}${key}`] = b.t.map((t, i) => [t, b.v[i], b.m[i] as number]);
    }
  }
  return out;
}

type Op = { readonly op: 'add'; readonly side: Side; readonly key: string; readonly t: number } | { readonly op: 'mark'; readonly side: Side; readonly key: string; readonly i: number } | { readonly op: 'evict'; readonly side: Side; readonly below: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('add' as const), side: fc.constantFrom<Side>(LEFT, RIGHT), key: fc.constantFrom('a', 'b', 'c'), t: fc.integer({ min: 0, max: 30 }) }),
  fc.record({ op: fc.constant('mark' as const), side: fc.constantFrom<Side>(LEFT, RIGHT), key: fc.constantFrom('a', 'b', 'c'), i: fc.nat(5) }),
  fc.record({ op: fc.constant('evict' as const), side: fc.constantFrom<Side>(LEFT, RIGHT), below: fc.integer({ min: 0, max: 30 }) }),
);

let serial = 0;
function apply(buffer: JoinBuffer, ops: readonly Op[]): void {
  for (const o of ops) {
    if (o.op === 'add') buffer.add(o.side, o.key, o.t, `v${serial++}`, 0);
    else if (o.op === 'evict') buffer.evict(o.side, o.below, undefined);
    else {
      const b = buffer.get(o.side, o.key);
      if (b !== undefined && o.i < b.t.length) buffer.mark(o.side, o.key, b, o.i);
    }
  }
}

describe('JoinBuffer', () => {
  it('rollback keeps a mark made in an earlier batch when the batch marks the record again (regression, seed 2025111628)', () => {
    const buffer = new JoinBuffer();
    apply(buffer, [{ op: 'add', side: 1, key: 'c', t: 0 }, { op: 'mark', side: 1, key: 'c', i: 0 }]);
    buffer.settle();
    const before = contents(buffer);
    apply(buffer, [{ op: 'mark', side: 1, key: 'c', i: 0 }]);
    buffer.rollback();
    expect(contents(buffer)).toEqual(before);
  });

  it('rollback undoes every add, mark and eviction of the batch, in any mix; records counts what it holds', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 30 }), fc.array(op, { maxLength: 30 }), (committed, batch) => {
        const buffer = new JoinBuffer();
        apply(buffer, committed);
        buffer.settle();
        const before = contents(buffer);
        apply(buffer, batch);
        const after = contents(buffer);
        expect(buffer.records).toBe(Object.values(after).reduce((n, rows) => n + rows.length, 0));
        buffer.rollback();
        expect(contents(buffer)).toEqual(before);
        expect(buffer.records).toBe(Object.values(before).reduce((n, rows) => n + rows.length, 0));
        // The same batch again gives the same state as the first time.
        serial -= batch.filter((o) => o.op === 'add').length;
        apply(buffer, batch);
        expect(contents(buffer)).toEqual(after);
      }),
    );
  });

  it('changes() gives a copy of each changed key once, and none for a key emptied', () => {
    const buffer = new JoinBuffer();
    buffer.add(LEFT, 'a', 1, 'x', 0);
    buffer.add(RIGHT, 'b', 5, 'y', 0);
    buffer.settle();
    buffer.add(LEFT, 'a', 2, 'z', 0);
    buffer.add(LEFT, 'a', 3, 'w', 0);
    buffer.evict(RIGHT, 6, undefined);
    const seen: unknown[] = [];
    buffer.changes((side, key, b) => seen.push([side, key, b]));
    expect(seen).toEqual([
      [LEFT, 'a', { t: [1, 2, 3], v: ['x', 'z', 'w'], m: [0, 0, 0] }],
      [RIGHT, 'b', undefined],
    ]);
    expect((seen[0] as [number, string, { t: number[] }])[2].t).not.toBe(buffer.get(LEFT, 'a')?.t);
  });
});
