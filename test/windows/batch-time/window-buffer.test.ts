import { describe, expect, it } from 'vitest';
import { Batch } from 'sluice';
import { WindowBuffer } from '../../../windows/batch-time/window-buffer.js';

function filled(): WindowBuffer<string> {
  const buffer = new WindowBuffer<string>();
  buffer.push(1000, Batch.of(['a']));
  buffer.push(2000, Batch.of(['b', 'c'], 2));
  buffer.push(3000, Batch.of([]));
  buffer.push(4000, Batch.of(['d']));
  return buffer;
}

describe('WindowBuffer', () => {
  it('gives the batches with times in (after, upTo], oldest first', () => {
    const buffer = filled();
    expect(buffer.between(1000, 3000).map((b) => b.toArray())).toEqual([['b', 'c'], []]);
    expect(buffer.between(-Infinity, 1000).map((b) => b.toArray())).toEqual([['a']]);
    expect(buffer.between(4000, 9000)).toEqual([]);
    expect(buffer.timesBetween(1000, 3000)).toEqual([2000, 3000]);
    expect(buffer.timesBetween(4000, 9000)).toEqual([]);
  });

  it('counts the records it holds, and those after a time', () => {
    const buffer = filled();
    expect(buffer.rows).toBe(4);
    expect(buffer.rowsAfter(2000)).toBe(1);
    expect(buffer.rowsAfter(0)).toBe(4);
  });

  it('drops the batches at or before a time', () => {
    const buffer = filled();
    buffer.dropThrough(2000);
    expect(buffer.rows).toBe(1);
    expect(buffer.between(-Infinity, Infinity).map((b) => b.toArray())).toEqual([[], ['d']]);
    buffer.dropThrough(0);
    expect(buffer.rows).toBe(1);
  });

  it('removes the newest batch only when it has the given time (undoing a batch that did not commit)', () => {
    const buffer = filled();
    buffer.removeNewest(3000);
    expect(buffer.rows).toBe(4);
    buffer.removeNewest(4000);
    expect(buffer.rows).toBe(3);
    expect(buffer.between(-Infinity, Infinity)).toHaveLength(3);
  });
});
