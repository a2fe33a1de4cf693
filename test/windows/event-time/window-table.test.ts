import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeKey } from 'sluice/extend';
import { WindowTable } from '../../../windows/event-time/window-table.js';
import { WindowEntries } from '../../../windows/event-time/window-entries.js';
import type { Key } from 'sluice';

/** The table's entries as sorted `[slot, encoded key, value]` triples. */
function contents(table: WindowTable): [number, string, unknown][] {
  const out: [number, string, unknown][] = [];
  for (const slot of table.slots()) table.entriesOf(slot)?.forEach((value, key) => out.push([slot, encodeKey(key), value]));
  return out.sort((a, b) => a[0] - b[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
}

type Op =
  | { readonly op: 'set'; readonly slot: number; readonly key: Key; readonly value: number }
  | { readonly op: 'merge'; readonly slot: number; readonly key: Key; readonly value: number }
  | { readonly op: 'delete'; readonly slot: number; readonly key: Key }
  | { readonly op: 'take'; readonly slot: number };

/** What `merge` ops merge with: a sum, absent counting as 0. */
const plus = (before: unknown, value: number): number => ((before as number | undefined) ?? 0) + value;

const keys = fc.oneof(fc.constantFrom<Key>('a', 'b', 0, -0, 1, ['a', 1], ['a', '1'], true), fc.string({ maxLength: 2 }));
const slots = fc.integer({ min: 0, max: 3 });
const ops = fc.array(
  fc.oneof(
    fc.record({ op: fc.constant('set' as const), slot: slots, key: keys, value: fc.integer() }),
    fc.record({ op: fc.constant('merge' as const), slot: slots, key: keys, value: fc.integer({ min: -100, max: 100 }) }),
    fc.record({ op: fc.constant('delete' as const), slot: slots, key: keys }),
    fc.record({ op: fc.constant('take' as const), slot: slots }),
  ),
  { maxLength: 40 },
);

function apply(table: WindowTable, list: readonly Op[]): void {
  for (const o of list) {
    if (o.op === 'set') table.set(o.slot, o.key, o.value);
    else if (o.op === 'merge') table.merge(o.slot, o.key, o.value, plus);
    else if (o.op === 'delete') table.delete(o.slot, o.key);
    else table.takeSlot(o.slot);
  }
}

/** A table with `committed` applied and settled, then `pending` applied. */
function pendingOver(committed: readonly Op[], pending: readonly Op[]): WindowTable {
  const table = new WindowTable();
  apply(table, committed);
  table.settle();
  apply(table, pending);
  return table;
}

/** A model: one map per slot, keyed by the key's encoding. */
function model(list: readonly Op[]): [number, string, unknown][] {
  const m = new Map<string, [number, string, unknown]>();
  for (const o of list) {
    const id = o.op === 'take' ? '' : `${o.slot}/${encodeKey(o.key)}`;
    if (o.op === 'set') m.set(id, [o.slot, encodeKey(o.key), o.value]);
    else if (o.op === 'merge') m.set(id, [o.slot, encodeKey(o.key), plus(m.get(id)?.[2], o.value)]);
    else if (o.op === 'delete') m.delete(`${o.slot}/${encodeKey(o.key)}`);
    else for (const [id, entry] of m) if (entry[0] === o.slot) m.delete(id);
  }
  return [...m.values()].sort((a, b) => a[0] - b[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
}

describe('WindowTable', () => {
  it('keeps values by slot and key, comparing keys by value (arrays, -0 and 0)', () => {
    const table = new WindowTable();
    table.set(10, ['card', 1], 'x');
    table.set(10, -0, 'zero');
    table.set(20, 'card', 'y');
    expect(table.get(10, ['card', 1])).toBe('x');
    expect(table.get(10, 0)).toBe('zero');
    expect(table.get(10, ['card', '1'])).toBeUndefined();
    expect(table.get(20, ['card', 1])).toBeUndefined();
    expect(table.size).toBe(3);
    expect(table.highestSlot).toBe(20);
    const taken = table.takeSlot(10);
    expect(taken?.size).toBe(2);
    expect([...table.slots()]).toEqual([20]);
    expect(table.size).toBe(1);
  });

  it('acts as a map of maps under any sequence of sets, merges, deletes and whole-slot takes', () => {
    fc.assert(
      fc.property(ops, (list) => {
        const table = new WindowTable();
        apply(table, list);
        expect(contents(table)).toEqual(model(list));
        expect(table.size).toBe(model(list).length);
      }),
    );
  });

  it('rolls back every change since settle, and settle keeps them', () => {
    fc.assert(
      fc.property(ops, ops, (committed, pending) => {
        const table = pendingOver(committed, pending);
        table.rollback();
        expect(contents(table)).toEqual(model(committed));
        expect(table.size).toBe(model(committed).length);
        // After a rollback the table goes on as if the pending changes never happened.
        apply(table, pending);
        table.settle();
        table.rollback();
        expect(contents(table)).toEqual(model([...committed, ...pending]));
      }),
    );
  });

  it('lists each entry changed since settle once, with its value now (undefined when removed)', () => {
    fc.assert(
      fc.property(ops, ops, (committed, pending) => {
        const table = pendingOver(committed, pending);
        const seen = new Map<string, unknown>();
        table.changes((slot, key, value) => {
          const id = `${slot}/${encodeKey(key)}`;
          expect(seen.has(id)).toBe(false);
          seen.set(id, value);
        });
        // Writing the changes over the committed entries gives the entries now.
        const after = new Map(model(committed).map(([slot, key, value]) => [`${slot}/${key}`, value]));
        for (const [id, value] of seen) {
          if (value === undefined) after.delete(id);
          else after.set(id, value);
        }
        expect(new Map(model([...committed, ...pending]).map(([slot, key, value]) => [`${slot}/${key}`, value]))).toEqual(after);
      }),
    );
  });
});

describe('WindowEntries', () => {
  it('refuses a new key that is not a key, with nothing set, and keeps -0 as 0 and NaN as NaN', () => {
    const entries = new WindowEntries();
    expect(() => { entries.set({ id: 1 } as unknown as Key, 1); }).toThrow(/is not allowed: a key is a string/);
    expect(() => { entries.set(undefined as unknown as Key, 1); }).toThrow(TypeError);
    expect(() => { entries.set(['a', {} as unknown as string], 1); }).toThrow(TypeError);
    expect(entries.size).toBe(0);
    entries.set(-0, 'zero');
    entries.set(Number.NaN, 'nan');
    expect(entries.get(0)).toBe('zero');
    expect(entries.get(Number.NaN)).toBe('nan');
    const seen: unknown[] = [];
    entries.forEach((_v, key) => seen.push(key));
    expect(seen.map((k) => Object.is(k, -0))).toEqual([false, false]);
  });
});
