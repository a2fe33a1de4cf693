/*
 * Over 200 lines: the suite is one list of cases, each a short law about the StateStore contract.
 */
import assert from 'node:assert/strict';
import type { KeyRange, StateStore, StoreKey } from 'sluice/extend';
import { assertSameValue } from './same-value.js';
import { seededRandom } from './seeded-random.js';
import { collect as entries, expectedScan, stateStoreModelTest } from './state-store-model.js';

/** A store under test, fresh and empty, with how to reopen it and clean it up. */
export interface StateStoreFixture {
  readonly store: StateStore;
  /**
   * Closes the store (and what it lives in) and opens it again on the same storage, for stores
   * that persist; the suite stops using the old store.
   */
  readonly reopen?: () => Promise<StateStore>;
  readonly cleanup?: () => Promise<void>;
}

/** Options of {@link stateStoreSuite}. */
export interface StateStoreSuiteOptions {
  /** Registers one case with the test runner (vitest's `it`, node:test's `test`, ...). */
  readonly test: (name: string, fn: () => Promise<void>) => void;
  /** Makes a fresh, empty store for each case. */
  readonly factory: () => Promise<StateStoreFixture>;
}

/**
 * The conformance suite of the {@link StateStore} contract: registers one case per law with
 * `test`, each on a fresh store from `factory`. It imports no test runner (assertions throw
 * `AssertionError`); the model-based case needs the optional peer `fast-check` and is skipped,
 * with a message, without it.
 *
 * @example
 * import { it } from 'vitest';
 * stateStoreSuite({ test: it, factory: async () => ({ store: new MemoryStateStore() }) });
 */
export function stateStoreSuite(options: StateStoreSuiteOptions): void {
  const { test, factory } = options;
  const withStore = (name: string, fn: (fixture: StateStoreFixture) => Promise<void>): void => {
    test(`StateStore: ${name}`, async () => {
      const fixture = await factory();
      try {
        await fn(fixture);
      } finally {
        await fixture.cleanup?.();
      }
    });
  };

  withStore('a new store is empty at version 0', async ({ store }) => {
    assert.equal(store.version, 0);
    assert.equal(store.stats().rows, 0);
    assert.deepEqual(await entries(store.scan()), []);
    assert.equal(await store.getCommitted('a'), undefined);
    await store.load(['a']);
    assert.equal(store.get('a'), undefined);
    assert.equal(store.has('a'), false);
  });

  withStore('get and has see a staged put before it is committed', async ({ store }) => {
    store.put('a', { n: 1 });
    assert.deepEqual(store.get('a'), { n: 1 });
    assert.equal(store.has('a'), true);
    assert.equal(await store.getCommitted('a'), undefined);
    assert.equal(store.version, 0);
    assert.equal(store.stats().rows, 0);
  });

  withStore('a staged delete hides the committed value until it is committed', async ({ store }) => {
    store.put('a', 1);
    await store.commit();
    store.delete('a');
    assert.equal(store.get('a'), undefined);
    assert.equal(store.has('a'), false);
    assert.equal(await store.getCommitted('a'), 1);
    await store.commit();
    assert.equal(await store.getCommitted('a'), undefined);
    await store.load(['a']);
    assert.equal(store.has('a'), false);
  });

  withStore('abort drops the staged writes and keeps the version', async ({ store }) => {
    store.put('a', 1);
    store.put('b', 2);
    await store.commit();
    store.put('a', 10);
    store.delete('b');
    store.put('c', 3);
    store.abort();
    assert.equal(store.version, 1);
    await store.load(['a', 'b', 'c']);
    assert.deepEqual([store.get('a'), store.get('b'), store.get('c'), store.has('c')], [1, 2, undefined, false]);
    assert.deepEqual(await entries(store.scan()), [['a', 1], ['b', 2]]);
    assert.equal(store.stats().rows, 2);
  });

  withStore('commit makes the staged writes the next version, one at a time', async ({ store }) => {
    store.put('a', 'x');
    assert.equal(await store.getCommitted('a'), undefined);
    assert.equal(await store.commit(), 1);
    assert.equal(store.version, 1);
    assert.equal(await store.getCommitted('a'), 'x');
    store.put('a', 'y');
    assert.equal(await store.getCommitted('a'), 'x');
    assert.equal(await store.commit(), 2);
    assert.equal(await store.getCommitted('a'), 'y');
    assert.equal(await store.commit(), 3, 'a commit with nothing staged is still a new version');
    await store.load(['a']);
    assert.equal(store.get('a'), 'y');
  });

  withStore('scan walks keys in order with the staged writes merged in', async ({ store }) => {
    for (const key of ['b', 'd', 'f', 'h']) store.put(key, key);
    await store.commit();
    store.put('d', 'D');
    store.delete('f');
    store.put('a', 'A');
    store.put('e', 'E');
    store.put('i', 'I');
    store.delete('z');
    const expected = [['a', 'A'], ['b', 'b'], ['d', 'D'], ['e', 'E'], ['h', 'h'], ['i', 'I']];
    assert.deepEqual(await entries(store.scan()), expected);
    assert.deepEqual(await entries(store.scan({ limit: 3 })), expected.slice(0, 3));
    assert.deepEqual(await entries(store.scan({ gte: 'c', lt: 'h' })), [['d', 'D'], ['e', 'E']]);
    assert.deepEqual(await entries(store.scanCommitted()), [['b', 'b'], ['d', 'd'], ['f', 'f'], ['h', 'h']]);
  });

  withStore('scan honours prefix, gte, lt and limit together', async ({ store }) => {
    const keys = ['', 'a', 'a\u0000', 'a\u00ff', 'a\u00ff\u00ff', 'ab', 'abc', 'b', '\u00ff', '\u00ff\u00ff', '\u0000'];
    for (const key of keys) store.put(key, key.length);
    await store.commit();
    store.delete('ab');
    store.put('aa', 2);
    const cases: KeyRange[] = [
      {}, { prefix: 'a' }, { prefix: 'a\u00ff' }, { prefix: '\u00ff' }, { prefix: '' }, { prefix: 'a', gte: 'a\u0001' },
      { prefix: 'a', lt: 'ab' }, { gte: 'a', lt: 'b' }, { gte: 'b', lt: 'a' }, { gte: 'abc' }, { lt: 'a' }, { prefix: 'a', limit: 2 },
      { limit: 0 }, { prefix: 'x' }, { gte: 'a\u00ff', limit: 1 }, { prefix: 'a', gte: 'b' }, { prefix: 'ab', limit: 1 },
    ];
    const view = new Map<StoreKey, unknown>([...keys.filter((k) => k !== 'ab').map((k) => [k, k.length] as const), ['aa', 2]]);
    for (const range of cases) {
      assert.deepEqual(await entries(store.scan(range)), expectedScan(view, range), `scan(${JSON.stringify(range)})`);
    }
    const committed = new Map(keys.map((k) => [k, k.length]));
    for (const range of cases) {
      assert.deepEqual(await entries(store.scanCommitted(range)), expectedScan(committed, range), `scanCommitted(${JSON.stringify(range)})`);
    }
  });

  withStore('scanCommitted and getCommitted ignore staged writes', async ({ store }) => {
    store.put('a', 1);
    store.put('b', 2);
    await store.commit();
    store.put('a', 100);
    store.delete('b');
    store.put('c', 3);
    assert.deepEqual(await entries(store.scanCommitted()), [['a', 1], ['b', 2]]);
    assert.deepEqual([await store.getCommitted('a'), await store.getCommitted('b'), await store.getCommitted('c')], [1, 2, undefined]);
  });

  withStore('5,000 keys put in random order come out sorted', async ({ store }) => {
    const random = seededRandom(42);
    const keys = new Set<StoreKey>();
    while (keys.size < 5_000) keys.add(randomKey(random, 6));
    const all = [...keys];
    for (const [i, k] of all.entries()) store.put(k, i);
    const half = all.length / 2;
    await store.commit();
    for (const key of all.slice(half)) store.delete(key);
    const fresh: StoreKey[] = [];
    while (fresh.length < 500) {
      const key = randomKey(random, 6);
      if (!keys.has(key) && !fresh.includes(key)) fresh.push(key);
    }
    for (const key of fresh) store.put(key, -1);
    const sorted = (list: StoreKey[]): StoreKey[] => [...list].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    assert.deepEqual((await entries(store.scanCommitted())).map(([k]) => k), sorted(all));
    assert.deepEqual((await entries(store.scan())).map(([k]) => k), sorted([...all.slice(0, half), ...fresh]));
    await store.commit();
    assert.deepEqual((await entries(store.scanCommitted())).map(([k]) => k), sorted([...all.slice(0, half), ...fresh]));
    assert.equal(store.stats().rows, half + fresh.length);
  });

  withStore('values of every supported kind are kept exactly', async (fixture) => {
    let store = fixture.store;
    const values = stateValues();
    for (const [i, [, value]] of values.entries()) store.put(key(i), value);
    for (const [i, [what, value]] of values.entries()) assertSameValue(store.get(key(i)), value, `${what} (staged)`);
    await store.commit();
    const check = async (when: string): Promise<void> => {
      const scanned = await entries(store.scanCommitted());
      assert.equal(scanned.length, values.length);
      await store.load(values.map((_, i) => key(i)));
      for (const [i, [what, value]] of values.entries()) {
        assertSameValue(scanned[i]?.[1], value, `${what} (scanCommitted ${when})`);
        assertSameValue(await store.getCommitted(key(i)), value, `${what} (getCommitted ${when})`);
        assertSameValue(store.get(key(i)), value, `${what} (get ${when})`);
      }
    };
    await check('after commit');
    if (fixture.reopen !== undefined) {
      store = await fixture.reopen();
      await check('after reopen');
    }
  });

  withStore('stats count the committed rows exactly', async (fixture) => {
    let store = fixture.store;
    for (const k of ['a', 'b', 'c']) store.put(k, k);
    assert.equal(store.stats().rows, 0);
    await store.commit();
    assert.equal(store.stats().rows, 3);
    store.put('a', 'again');
    store.delete('b');
    store.delete('never');
    store.put('d', 'd');
    store.delete('d');
    store.put('e', 'e');
    store.delete('c');
    store.put('c', 'back');
    await store.commit();
    assert.equal(store.stats().rows, 3, 'a, c, e');
    store.put('b', 'b');
    store.put('b', 'twice');
    store.delete('e');
    await store.commit();
    assert.equal(store.stats().rows, 3, 'a, b, c');
    if (fixture.reopen !== undefined) {
      store = await fixture.reopen();
      assert.equal(store.stats().rows, 3, 'after reopen');
      store.put('f', 'f');
      store.delete('a');
      store.put('c', 'c');
      await store.commit();
      assert.equal(store.stats().rows, 3, 'b, c, f after reopen');
    }
    assert.equal((await entries(store.scanCommitted())).length, store.stats().rows);
  });

  withStore('stats count the committed rows per namespace exactly, where the store counts them', async (fixture) => {
    let store = fixture.store;
    const check = async (what: string): Promise<void> => {
      const namespaces = store.stats().namespaces;
      if (namespaces === undefined) return;
      const expected: Record<string, number> = {};
      for (const [key] of await entries(store.scanCommitted())) expected[key.charAt(0)] = (expected[key.charAt(0)] ?? 0) + 1;
      assert.deepEqual({ ...namespaces }, expected, what);
    };
    for (const k of ['Sa', 'Sb', 'Da', 'Db', 'T', 'V']) store.put(k, 1);
    await check('before any commit');
    await store.commit();
    await check('after commit');
    store.delete('Sa');
    store.delete('Da');
    store.delete('Snever');
    store.put('Sb', 2);
    store.put('Sc', 1);
    store.delete('T');
    store.put('Dz', 1);
    store.delete('Dz');
    await store.commit();
    await check('after deletes and overwrites');
    store.put('Sd', 1);
    store.abort();
    await check('after an abort');
    if (fixture.reopen !== undefined) {
      store = await fixture.reopen();
      await check('after reopen');
      store.delete('V');
      store.put('Se', 1);
      await store.commit();
      await check('after a commit after reopen');
    }
  });

  withStore('a reopened store keeps its committed version and data, not its staged writes', async (fixture) => {
    if (fixture.reopen === undefined) return;
    fixture.store.put('a', { v: 1 });
    fixture.store.put('b', [2]);
    await fixture.store.commit();
    fixture.store.put('a', { v: 'staged' });
    fixture.store.delete('b');
    fixture.store.put('c', 'staged');
    const store = await fixture.reopen();
    assert.equal(store.version, 1);
    await store.load(['a', 'b', 'c']);
    assert.deepEqual([store.get('a'), store.get('b'), store.has('c')], [{ v: 1 }, [2], false]);
    assert.deepEqual(await entries(store.scan()), [['a', { v: 1 }], ['b', [2]]]);
    store.put('c', 3);
    assert.equal(await store.commit(), 2);
  });

  test('StateStore: random puts, deletes, commits, aborts, reads and scans agree with a Map model', async () => {
    await stateStoreModelTest(factory);
  });
}

const key = (i: number): StoreKey => `k${String(i).padStart(4, '0')}`;

function randomKey(random: () => number, maxLength: number): StoreKey {
  let out = '';
  const length = 1 + Math.floor(random() * maxLength);
  for (let i = 0; i < length; i++) out += String.fromCharCode(Math.floor(random() * 256));
  return out;
}

/** Values of every kind a state value may be, with their names. */
function stateValues(): [string, unknown][] {
  return [
    ['nested object', { a: 1, b: { c: [1, 'two', null, true, { d: 3.5 }] }, e: '' }],
    ['negative zero', -0],
    ['negative zero in an array', [0, -0, { z: -0 }]],
    ['NaN and infinities', [NaN, Infinity, -Infinity]],
    ['numbers', [0, 1, -1, 0.1, 2 ** 31, -(2 ** 31) - 1, 2 ** 53, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, Number.MAX_VALUE, Number.MIN_VALUE]],
    ['bigints', [0n, 1n, -1n, 2n ** 63n - 1n, -(2n ** 63n), 2n ** 64n, 2n ** 200n + 1n, -(3n ** 100n)]],
    ['strings', ['', 'é', '😀', '\u0000', 'x'.repeat(1_000)]],
    ['null, undefined and booleans', [null, undefined, { u: undefined }, true, false]],
    ['Map', new Map<unknown, unknown>([['a', 1], [2, { b: 3 }], ['nested', new Map([['x', 1n]])]])],
    ['Set', new Set<unknown>([1, 'a', 3n])],
    ['Date', new Date(1_700_000_000_123)],
    ['Uint8Array', new Uint8Array([0, 1, 254, 255])],
    ['object with an own __proto__ key', JSON.parse('{"__proto__": {"x": 1}, "y": 2}') as unknown],
    ['empty containers', [{}, [], new Map(), new Set(), new Uint8Array(0)]],
  ];
}
