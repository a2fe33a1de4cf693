import { describe, expect, it } from 'vitest';
import { MemoryStateBackend, MemoryStateStore } from '../../state/memory-state-store.js';
import { stateStoreSuite } from '../kit/state-store-suite.js';

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

describe('MemoryStateBackend', () => {
  it('commits only the stores with staged writes, and aborts all of them', async () => {
    const backend = new MemoryStateBackend();
    const a = await backend.open('a');
    const b = await backend.open('b');
    a.put('x', 1);
    await backend.commit(0);
    expect([a.version, b.version]).toEqual([1, 0]);
    a.put('x', 2);
    b.put('y', 3);
    backend.abort(1);
    await backend.commit(1);
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
