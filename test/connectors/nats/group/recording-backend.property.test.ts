import fc from 'fast-check';
import { expect, it } from 'vitest';
import { MemoryStateBackend } from 'sluice/state';
import { RecordingBackend } from '../../../../connectors/nats/group/recording-backend.js';

/*
 * The backend that feeds a partition's changelog: what it takes from its stores after a batch is
 * exactly the batch's net change (replaying the taken changes on the state before the batch gives
 * the state after it), an aborted batch's changes are never taken, and seeded rows are staged in
 * the stores without being taken.
 */

type Op = { readonly type: 'put'; readonly key: string; readonly value: number } | { readonly type: 'delete'; readonly key: string } | { readonly type: 'abort' };

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ type: fc.constant('put' as const), key: fc.constantFrom('a', 'b', 'c', 'd'), value: fc.integer() }) },
  { weight: 3, arbitrary: fc.record({ type: fc.constant('delete' as const), key: fc.constantFrom('a', 'b', 'c', 'd') }) },
  { weight: 1, arbitrary: fc.constant({ type: 'abort' as const }) },
);

async function committed(store: { scanCommitted(): AsyncIterable<readonly [string, unknown]> }): Promise<Map<string, unknown>> {
  const out = new Map<string, unknown>();
  for await (const [key, value] of store.scanCommitted()) out.set(key, value);
  return out;
}

it('the changes taken after each batch replay the batch: state before + changes = state after; aborted ones are dropped', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(fc.array(op, { maxLength: 8 }), { maxLength: 6 }), fc.array(fc.tuple(fc.constantFrom('a', 'x'), fc.integer()), { maxLength: 3 }), async (batches, seed) => {
      const backend = new RecordingBackend(new MemoryStateBackend());
      backend.seed(new Map([['op', seed]]));
      const store = await backend.open('op');
      let replica = new Map<string, unknown>();
      for (const [key, value] of seed) replica.set(key, value);
      for (const [batchId, ops] of batches.entries()) {
        for (const o of ops) {
          if (o.type === 'put') store.put(o.key, o.value);
          else if (o.type === 'delete') store.delete(o.key);
          else store.abort();
        }
        const changes = backend.takeChanges();
        for (const change of changes) {
          const [operator, key] = change.key as [string, string];
          expect(operator).toBe('op');
          if (change.removed === true) replica.delete(key);
          else replica.set(key, change.value);
        }
        await backend.prepare({ batchId, plan: {} as never, persistsState: true, write: () => undefined });
        await backend.committed(batchId);
        expect(await committed(store)).toEqual(replica);
        replica = new Map(replica);
      }
      expect(backend.takeChanges()).toEqual([]);
    }),
  );
});

it('regression: restored rows survive a first batch that fails (store or backend abort) and commit with the next, untaken', async () => {
  const backend = new RecordingBackend(new MemoryStateBackend());
  const store = await backend.open('op');
  backend.seed(new Map([['op', [['a', 1]] as const]]));
  store.put('b', 2);
  store.abort();
  store.put('c', 3);
  backend.aborted(0);
  store.put('d', 4);
  expect(backend.takeChanges()).toEqual([{ key: ['op', 'd'], value: 4 }]);
  await backend.prepare({ batchId: 0, plan: {} as never, persistsState: true, write: () => undefined });
  await backend.committed(0);
  expect(await committed(store)).toEqual(new Map<string, unknown>([['a', 1], ['d', 4]]));
  store.abort();
  expect(await committed(store)).toEqual(new Map<string, unknown>([['a', 1], ['d', 4]]));
  expect(store.has('a')).toBe(true);
});
