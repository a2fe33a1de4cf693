import fc from 'fast-check';
import { expect, test } from 'vitest';
import type { DStream } from 'sluice';
import { runBatches } from 'sluice/testing';
import { dedupeWithin } from '../../examples/testing/dedupe.js';

interface Click {
  readonly id: string;
  readonly seq: number;
}

const TTL = 2000; // runBatches cuts a batch every 1000 ms: batch i runs at (i + 1) * 1000

/** The model: a record is emitted unless its id was emitted at most TTL earlier. */
function expected(batches: readonly (readonly Click[])[]): Click[][] {
  const emittedAt = new Map<string, number>();
  return batches.map((batch, i) => {
    const now = (i + 1) * 1000;
    return batch.filter(({ id }) => {
      const last = emittedAt.get(id);
      if (last !== undefined && now - last <= TTL) return false;
      emittedAt.set(id, now);
      return true;
    });
  });
}

// Batches of clicks on few ids, so repeats are common; seq tells the records apart.
const clicks = fc
  .array(fc.array(fc.constantFrom('a', 'b', 'c'), { maxLength: 5 }), { maxLength: 8 })
  .map((batches) => batches.map((ids, i) => ids.map((id, j) => ({ id, seq: i * 10 + j }))));

test('dedupeWithin emits the first click of an id and drops its repeats within the ttl', async () => {
  await fc.assert(
    fc.asyncProperty(clicks, async (batches) => {
      const out = await runBatches(batches, (s: DStream<Click>) => s.pipe(dedupeWithin((c) => c.id, TTL)));
      expect(out.map((batch) => batch.sort((a, b) => a.seq - b.seq))).toEqual(expected(batches));
    }),
  );
});
