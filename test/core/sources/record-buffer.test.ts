import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RecordBuffer } from '../../../core/sources/record-buffer.js';

describe('RecordBuffer', () => {
  it('reads any live range like the array of everything pushed, across commits and compaction', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.record({ push: fc.nat(5) }), fc.record({ commit: fc.nat(5) }))), (steps) => {
        const buffer = new RecordBuffer<number>();
        const all: number[] = [];
        let committed = 0;
        for (const step of steps) {
          if ('push' in step) {
            for (let i = 0; i < step.push; i++) {
              buffer.push(all.length);
              all.push(all.length);
            }
          } else {
            committed = Math.min(all.length, committed + step.commit);
            buffer.discardBefore(committed);
          }
          expect(buffer.end).toBe(all.length);
          expect(buffer.slice(committed, all.length)).toEqual(all.slice(committed));
        }
        if (committed > 0) expect(() => buffer.slice(committed - 1, all.length)).toThrow(RangeError);
      }),
    );
  });
});
