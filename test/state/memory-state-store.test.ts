import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MemoryStateBackend, MemoryStateStore } from '../../state/memory-state-store.js';
import { SortedKeyIndex } from '../../state/sorted-key-index.js';
import type { KeyRange, StoreKey } from '../../state/state-store.js';
import { collect, expectedScan } from '../kit/state-store-model.js';
import { stateStoreSuite } from '../kit/state-store-suite.js';
import { commitBackend } from '../support/commit-backend.js';

const pad = (n: number): string => `k${String(n).padStart(5, '0')}`;

/** A memory store holding `pad(i) -> i` for `0 <= i < n`, committed. */
async function committedStore(n: number): Promise<MemoryStateStore> {
  const store = new MemoryStateStore();
  for (let i = 0; i < n; i++) store.put(pad(i), i);
  await store.commit();
  return store;
}
const keysOf = async (entries: AsyncIterable<readonly [StoreKey, unknown]>): Promise<StoreKey[]> => (await collect(entries)).map(([key]) => key);
const sortedKeys = (keys: Iterable<StoreKey>): StoreKey[] => [...keys].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

describe('MemoryStateStore conformance', () => {
  stateStoreSuite({ test: it, factory: () => Promise.resolve({ store: new MemoryStateStore() }) });
});

describe('MemoryStateStore conformance, opened on a MemoryStateBackend', () => {
  stateStoreSuite({
    test: it,
    factory: async () => {
      const backend = new MemoryStateBackend();
      let store = await backend.open('op');
      return {
        store,
        reopen: async () => {
          await store.close();
          return (store = await backend.open('op'));
        },
        cleanup: () => backend.close(),
      };
    },
  });
});

describe('MemoryStateStore', () => {
  it('answers get and has without load', () => {
    const store = new MemoryStateStore();
    expect(store.get('never')).toBeUndefined();
    expect(store.has('never')).toBe(false);
  });

  it('keeps the value objects it is given', async () => {
    const store = new MemoryStateStore();
    const value = { n: 1 };
    store.put('a', value);
    await store.commit();
    expect(store.get('a')).toBe(value);
  });

  it('rejects keys that are not byte strings and bad scan limits', () => {
    const store = new MemoryStateStore();
    expect(() => {
      store.put('\u0100', 1);
    }).toThrow(TypeError);
    expect(() => store.scan({ limit: -1 })).toThrow(RangeError);
    expect(() => store.scan({ limit: 1.5 })).toThrow(RangeError);
  });

  it('a scan paused across a commit goes on from its last key without repeats', async () => {
    const store = new MemoryStateStore();
    for (let i = 0; i < 2_000; i++) store.put(`k${String(i).padStart(4, '0')}`, i);
    await store.commit();
    const seen: string[] = [];
    for await (const [key] of store.scanCommitted()) {
      seen.push(key);
      if (seen.length === 700) {
        store.delete('k0000');
        store.delete('k0701');
        store.put('k0700a', -1);
        await store.commit();
      }
    }
    expect(seen).toHaveLength(2_000);
    expect(new Set(seen).size).toBe(2_000);
    expect(seen[700]).toBe('k0700');
    expect(seen[701]).toBe('k0700a');
    expect(seen).not.toContain('k0701');
  });
});

describe('MemoryStateStore key index (built by the first scan, dropped by the second commit in a row with no scan before it)', () => {
  /** Counts the bulk builds of the index: one per scan that found no index. */
  const spyBuilds = () => vi.spyOn(SortedKeyIndex, 'fromSorted');
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('is built by the first scan, kept by commits while scans go on or after one commit with no scan, and rebuilt after two', async () => {
    const builds = spyBuilds();
    const store = new MemoryStateStore();
    const model = new Set<StoreKey>();
    const write = async (from: number, to: number): Promise<void> => {
      for (let i = from; i < to; i++) {
        store.put(pad(i), i);
        model.add(pad(i));
      }
      if (from > 0) {
        store.delete(pad(from - 7));
        model.delete(pad(from - 7));
      }
      await store.commit();
    };
    await write(0, 1_000);
    await write(1_000, 2_000);
    expect(builds).not.toHaveBeenCalled();
    expect(await keysOf(store.scanCommitted())).toEqual(sortedKeys(model));
    expect(builds).toHaveBeenCalledTimes(1);
    for (let b = 2; b < 8; b++) {
      await write(b * 1_000, (b + 1) * 1_000);
      expect(await keysOf(store.scan({ gte: pad(b * 500) }))).toEqual(sortedKeys(model).filter((k) => k >= pad(b * 500)));
    }
    // The commit after a scan, then one with no scan before it: both keep the index up to date.
    await write(8_000, 9_000);
    await write(9_000, 10_000);
    expect(await keysOf(store.scan())).toEqual(sortedKeys(model));
    expect(builds).toHaveBeenCalledTimes(1);
    // The second commit in a row with no scan before it drops the index; the next scan builds it again.
    await write(10_000, 11_000);
    await write(11_000, 12_000);
    await write(12_000, 13_000);
    expect(await keysOf(store.scan())).toEqual(sortedKeys(model));
    expect(builds).toHaveBeenCalledTimes(2);
    await write(13_000, 14_000);
    expect(await keysOf(store.scanCommitted({ gte: pad(12_990) }))).toEqual(sortedKeys(model).filter((k) => k >= pad(12_990)));
    expect(builds).toHaveBeenCalledTimes(2);
  });

  it('a scan after many commits with no scan gives every committed key in order', async () => {
    const builds = spyBuilds();
    const store = new MemoryStateStore();
    const model = new Set<StoreKey>();
    const order = (i: number): number => (i * 7_919) % 30_000;
    for (let i = 0; i < 30_000; i++) {
      store.put(pad(order(i)), i);
      model.add(pad(order(i)));
      if (i % 1_000 === 999) await store.commit();
    }
    expect(await keysOf(store.scanCommitted({ limit: 3 }))).toEqual(sortedKeys(model).slice(0, 3));
    for (let b = 0; b < 40; b++) {
      for (let i = 0; i < 500; i++) {
        const n = order(b * 500 + i);
        if (i % 3 === 0) {
          store.put(pad(n) + 'x', b);
          model.add(pad(n) + 'x');
        } else {
          store.delete(pad(n));
          model.delete(pad(n));
        }
      }
      await store.commit();
    }
    expect(await keysOf(store.scanCommitted())).toEqual(sortedKeys(model));
    expect(await keysOf(store.scan({ prefix: 'k012' }))).toEqual(sortedKeys(model).filter((k) => k.startsWith('k012')));
    expect(builds).toHaveBeenCalledTimes(2);
  });

  it('scans agree with a sorted model whatever the pattern of scans and commits', async () => {
    const key = fc.integer({ min: 0, max: 1_500 }).map(pad);
    const range = fc.oneof(
      fc.constant<KeyRange>({}),
      fc.tuple(key, key).map(([gte, lt]): KeyRange => ({ gte, lt })),
      fc.tuple(key, fc.nat(40)).map(([gte, limit]): KeyRange => ({ gte, limit })),
    );
    const batch = fc.record({
      writes: fc.array(fc.tuple(key, fc.boolean()), { maxLength: 400 }),
      scanStaged: fc.option(range, { freq: 3 }),
      scanCommitted: fc.option(range, { freq: 3 }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(batch, { minLength: 1, maxLength: 12 }), async (batches) => {
        const store = new MemoryStateStore();
        const committed = new Map<StoreKey, unknown>();
        let n = 0;
        for (const { writes, scanStaged, scanCommitted } of batches) {
          const view = new Map(committed);
          for (const [k, put] of writes) {
            if (put) {
              store.put(k, ++n);
              view.set(k, n);
            } else {
              store.delete(k);
              view.delete(k);
            }
          }
          if (scanStaged !== null) expect(await collect(store.scan(scanStaged))).toEqual(expectedScan(view, scanStaged));
          await store.commit();
          committed.clear();
          for (const [k, v] of view) committed.set(k, v);
          if (scanCommitted !== null) expect(await collect(store.scanCommitted(scanCommitted))).toEqual(expectedScan(committed, scanCommitted));
        }
        expect(await collect(store.scanCommitted())).toEqual(expectedScan(committed));
      }),
      { numRuns: 60 },
    );
  });

  it('a scan paused across commits that drop the index goes on after its last key, without deleted keys or repeats', async () => {
    const builds = spyBuilds();
    const store = await committedStore(2_000);
    const walk = store.scanCommitted()[Symbol.asyncIterator]();
    const seen: StoreKey[] = [];
    for (let i = 0; i < 700; i++) seen.push(((await walk.next()).value as readonly [StoreKey, unknown])[0]);
    store.delete(pad(0));
    store.delete(pad(701));
    store.put(pad(700) + 'a', -1);
    await store.commit();
    store.delete(pad(900));
    await store.commit();
    // The second commit in a row with no scan before it: the index is dropped, these go to the map only.
    store.put(pad(950) + 'a', -2);
    store.delete(pad(1_999));
    await store.commit();
    store.put(pad(1_000) + 'a', -3);
    store.delete(pad(1_001));
    await store.commit();
    for (let next = await walk.next(); next.done !== true; next = await walk.next()) seen.push(next.value[0]);
    const expected = [
      ...Array.from({ length: 700 }, (_, i) => pad(i)),
      ...[pad(700), pad(700) + 'a'],
      ...Array.from({ length: 1_298 }, (_, i) => pad(i + 702)).filter((k) => ![pad(900), pad(1_001), pad(1_999)].includes(k)),
      ...[pad(950) + 'a', pad(1_000) + 'a'],
    ];
    expect(seen).toEqual(sortedKeys(expected));
    expect(new Set(seen).size).toBe(seen.length);
    expect(builds).toHaveBeenCalledTimes(2);
  });

  it('a paused scan goes on in the index another scan rebuilt after the drop', async () => {
    const builds = spyBuilds();
    const store = await committedStore(1_000);
    const walk = store.scanCommitted({ gte: pad(100), lt: pad(900) })[Symbol.asyncIterator]();
    expect((await walk.next()).value).toEqual([pad(100), 100]);
    for (let b = 0; b < 3; b++) {
      store.delete(pad(101 + b));
      await store.commit();
    }
    expect(await keysOf(store.scanCommitted({ limit: 1 }))).toEqual([pad(0)]);
    expect(builds).toHaveBeenCalledTimes(2);
    store.delete(pad(200));
    store.put(pad(150) + 'a', 'new');
    await store.commit();
    const rest = await keysOf({ [Symbol.asyncIterator]: () => walk });
    expect(rest).toEqual(sortedKeys([...Array.from({ length: 796 }, (_, i) => pad(i + 104)).filter((k) => k !== pad(200)), pad(150) + 'a']));
    expect(builds).toHaveBeenCalledTimes(2);
  });

  it('a scan that moves between commits keeps the index', async () => {
    const builds = spyBuilds();
    const store = await committedStore(100);
    const seen: StoreKey[] = [];
    for await (const [key] of store.scanCommitted()) {
      seen.push(key);
      if (seen.length < 60) store.put(pad(seen.length * 2) + 'a', 0);
      await store.commit();
    }
    expect(seen.filter((k) => !k.endsWith('a'))).toEqual(Array.from({ length: 100 }, (_, i) => pad(i)));
    expect(seen).toHaveLength(159);
    expect(seen).toEqual(sortedKeys(seen));
    expect(builds).toHaveBeenCalledTimes(1);
  });

  it('scans keys whose committed value is undefined, before and after the index is rebuilt', async () => {
    const store = new MemoryStateStore();
    store.put('a', undefined);
    store.put('b', 1);
    await store.commit();
    expect(await collect(store.scanCommitted())).toEqual([
      ['a', undefined],
      ['b', 1],
    ]);
    store.put('c', undefined);
    await store.commit();
    store.delete('b');
    await store.commit();
    store.put('a0', 2);
    await store.commit();
    expect(await collect(store.scan())).toEqual([
      ['a', undefined],
      ['a0', 2],
      ['c', undefined],
    ]);
  });

  it('belongs to the table: a store opened again on it uses the index the closed one built', async () => {
    const builds = spyBuilds();
    const backend = new MemoryStateBackend();
    const first = await backend.open('op');
    for (let i = 0; i < 500; i++) first.put(pad(i), i);
    await first.commit();
    expect(await keysOf(first.scan({ limit: 2 }))).toEqual([pad(0), pad(1)]);
    await first.close();
    const again = await backend.open('op');
    again.put(pad(0) + 'a', 0);
    await again.commit();
    expect(await keysOf(again.scan({ limit: 2 }))).toEqual([pad(0), pad(0) + 'a']);
    expect(builds).toHaveBeenCalledTimes(1);
    await backend.close();
  });
});

describe('MemoryStateBackend', () => {
  it('commits only the stores with staged writes, and aborts all of them', async () => {
    const backend = new MemoryStateBackend();
    const a = await backend.open('a');
    const b = await backend.open('b');
    a.put('x', 1);
    await commitBackend(backend, 0);
    expect([a.version, b.version]).toEqual([1, 0]);
    a.put('x', 2);
    b.put('y', 3);
    backend.aborted(1);
    await commitBackend(backend, 1);
    expect([a.version, b.version, a.get('x'), b.has('y')]).toEqual([1, 0, 1, false]);
  });

  it('gives the same store while it is open, and its committed state after it is closed', async () => {
    const backend = new MemoryStateBackend();
    const store = await backend.open('op');
    expect(await backend.open('op')).toBe(store);
    store.put('a', 1);
    await store.commit();
    store.put('b', 2);
    await store.close();
    const again = await backend.open('op');
    expect(again).not.toBe(store);
    expect([again.version, again.get('a'), again.has('b')]).toEqual([1, 1, false]);
    await expect(backend.open('')).rejects.toThrow(TypeError);
  });
});
