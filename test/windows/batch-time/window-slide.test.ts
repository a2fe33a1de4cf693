import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Pair } from 'sluice';
import { KeyMap } from 'sluice/extend';
import { slidePartition, WindowUndo } from '../../../windows/batch-time/window-merge.js';

const sum = (a: number, b: number): number => a + b;
const minus = (a: number, b: number): number => a - b;
const keyArb = fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f');
const batchArb = fc.uniqueArray(fc.tuple(keyArb, fc.integer({ min: -3, max: 3 })), { selector: ([k]) => k, maxLength: 6 });
const entriesOf = (map: KeyMap<string, number>): [string, number][] => {
  const out: [string, number][] = [];
  map.forEach((value, key) => out.push([key, value]));
  return out;
};

describe('slidePartition (the incremental window slide, in place)', () => {
  it('gives inverse(reduce(previous, entered), left) per key, drops what the filter rejects, and WindowUndo restores the window exactly', () => {
    fc.assert(
      fc.property(batchArb, fc.array(batchArb, { maxLength: 2 }), fc.array(batchArb, { maxLength: 2 }), fc.boolean(), (previous, entered, left, filtered) => {
        const window = new KeyMap<string, number>();
        for (const [k, v] of previous) window.add(k, v);
        const before = entriesOf(window);
        const filter = filtered ? ([, n]: Pair<string, number>): boolean => n !== 0 : undefined;
        const undo = new WindowUndo(window);
        const pairs = slidePartition(window, entered, left, { reduce: sum, inverse: minus, filter }, undo);

        // The model: previous keys in order, then new keys in first-seen order; a key only in `left` is dropped.
        const model = new Map<string, number>(previous);
        for (const b of entered) for (const [k, v] of b) model.set(k, (model.get(k) ?? 0) + v);
        for (const b of left) for (const [k, v] of b) if (model.has(k)) model.set(k, model.get(k)! - v);
        const expected = [...model].filter((pair) => filter === undefined || filter(pair));
        expect(pairs).toEqual(expected);
        expect(entriesOf(window)).toEqual(expected);

        undo.undo(window);
        expect(entriesOf(window)).toEqual(before);
        for (const [k, v] of before) expect(window.get(k)).toBe(v);
      }),
    );
  });
});
