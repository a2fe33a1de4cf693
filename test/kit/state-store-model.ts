import assert from 'node:assert/strict';
import type * as FastCheck from 'fast-check';
import type { KeyRange, StateStore, StoreKey } from 'sluice/extend';
import { assertSameValue } from './same-value.js';
import type { StateStoreFixture } from './state-store-suite.js';

const GONE = Symbol('deleted');

/** The model: the committed map, the staged writes and the version. */
interface Model {
  readonly committed: Map<StoreKey, unknown>;
  readonly staged: Map<StoreKey, unknown>;
  version: number;
}

interface Real {
  store: StateStore;
  readonly reopen: (() => Promise<StateStore>) | undefined;
}

type Command = FastCheck.AsyncCommand<Model, Real>;

/** The entries of `view` that `range` selects, in key order: what a scan must return. */
export function expectedScan(view: ReadonlyMap<StoreKey, unknown>, range: KeyRange = {}): [StoreKey, unknown][] {
  const keys = [...view.keys()]
    .filter((k) => (range.prefix === undefined || k.startsWith(range.prefix)) && (range.gte === undefined || k >= range.gte) && (range.lt === undefined || k < range.lt))
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return keys.slice(0, range.limit ?? keys.length).map((k) => [k, view.get(k)]);
}

/** The committed map with the staged writes applied. */
function viewOf(model: Model): Map<StoreKey, unknown> {
  const view = new Map(model.committed);
  for (const [key, value] of model.staged) {
    if (value === GONE) view.delete(key);
    else view.set(key, value);
  }
  return view;
}

/** The entries of a scan, in order. */
export async function collect(iterable: AsyncIterable<readonly [StoreKey, unknown]>): Promise<[StoreKey, unknown][]> {
  const out: [StoreKey, unknown][] = [];
  for await (const [k, v] of iterable) out.push([k, v]);
  return out;
}

/**
 * The model-based case of the state store suite: random sequences of put, delete, commit, abort,
 * reopen (where the store can), reads and scans, checked step by step against a `Map` model.
 * Skipped, with a message, when the optional peer `fast-check` is not installed.
 */
export async function stateStoreModelTest(factory: () => Promise<StateStoreFixture>): Promise<void> {
  let fc: typeof FastCheck;
  try {
    fc = await import('fast-check');
  } catch {
    console.warn('stateStoreSuite: the model-based case was skipped because fast-check is not installed.');
    return;
  }
  await fc.assert(
    fc.asyncProperty(fc.commands(commandArbitraries(fc), { maxCommands: 50, size: 'max' }), async (cmds) => {
      const fixture = await factory();
      try {
        const setup = () => ({ model: { committed: new Map(), staged: new Map(), version: 0 }, real: { store: fixture.store, reopen: fixture.reopen } });
        await fc.asyncModelRun(setup, cmds);
      } finally {
        await fixture.cleanup?.();
      }
    }),
    { numRuns: 100 },
  );
}

/** The commands, writes and scans twice as likely as the rest; keys collide often. */
function commandArbitraries(fc: typeof FastCheck): FastCheck.Arbitrary<Command>[] {
  const key = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom('a', 'ab', 'b', 'ba', '\u0000', '\u00ff', 'a\u00ff') },
    { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom('a', 'b', '\u0000', '\u00ff'), maxLength: 3 }) },
  );
  const value = fc.oneof(fc.integer(), fc.string({ maxLength: 4 }), fc.constant(null), fc.integer().map((n) => ({ n })));
  const put = fc.tuple(key, value).map(([k, v]) => command(`put(${JSON.stringify(k)}, ${JSON.stringify(v)})`, (m, r) => {
    m.staged.set(k, v);
    r.store.put(k, v);
    return Promise.resolve();
  }));
  const del = key.map((k) => command(`delete(${JSON.stringify(k)})`, (m, r) => {
    m.staged.set(k, GONE);
    r.store.delete(k);
    return Promise.resolve();
  }));
  const abort = fc.constant(command('abort()', (m, r) => {
    m.staged.clear();
    r.store.abort();
    return Promise.resolve();
  }));
  const get = fc.array(key, { minLength: 1, maxLength: 4 }).map((keys) => command(`get(${JSON.stringify(keys)})`, (m, r) => checkGet(m, r, keys)));
  const scan = rangeArbitrary(fc, key).map((range) => command(`scan(${JSON.stringify(range)})`, (m, r) => checkScan(m, r, range)));
  const commit = fc.constant(command('commit()', runCommit));
  const reopen = fc.constant(command('reopen()', runReopen));
  return [put, put, del, del, commit, abort, reopen, get, scan, scan];
}

function rangeArbitrary(fc: typeof FastCheck, key: FastCheck.Arbitrary<StoreKey>): FastCheck.Arbitrary<KeyRange> {
  const limit = fc.nat(4);
  return fc.oneof(
    fc.constant({}),
    limit.map((l) => ({ limit: l })),
    key.map((prefix) => ({ prefix })),
    fc.tuple(key, limit).map(([prefix, l]) => ({ prefix, limit: l })),
    fc.tuple(key, key).map(([gte, lt]) => ({ gte, lt })),
    fc.tuple(key, limit).map(([gte, l]) => ({ gte, limit: l })),
    fc.tuple(key, key, key, limit).map(([prefix, gte, lt, l]) => ({ prefix, gte, lt, limit: l })),
  );
}

async function runCommit(m: Model, r: Real): Promise<void> {
  for (const [k, v] of m.staged) {
    if (v === GONE) m.committed.delete(k);
    else m.committed.set(k, v);
  }
  m.staged.clear();
  assert.equal(await r.store.commit(), ++m.version);
  assert.equal(r.store.version, m.version);
  assert.equal(r.store.stats().rows, m.committed.size);
}

async function runReopen(m: Model, r: Real): Promise<void> {
  if (r.reopen === undefined) return;
  m.staged.clear();
  r.store = await r.reopen();
  assert.equal(r.store.version, m.version);
  assert.equal(r.store.stats().rows, m.committed.size);
}

async function checkGet(m: Model, r: Real, keys: readonly StoreKey[]): Promise<void> {
  await r.store.load(keys);
  const view = viewOf(m);
  for (const k of keys) {
    assertSameValue(r.store.get(k), view.get(k), `get(${JSON.stringify(k)})`);
    assert.equal(r.store.has(k), view.has(k), `has(${JSON.stringify(k)})`);
    assertSameValue(await r.store.getCommitted(k), m.committed.get(k), `getCommitted(${JSON.stringify(k)})`);
  }
}

async function checkScan(m: Model, r: Real, range: KeyRange): Promise<void> {
  assert.deepEqual(await collect(r.store.scan(range)), expectedScan(viewOf(m), range), 'scan');
  assert.deepEqual(await collect(r.store.scanCommitted(range)), expectedScan(m.committed, range), 'scanCommitted');
}

function command(name: string, run: (model: Model, real: Real) => Promise<void>): Command {
  return { check: () => true, run, toString: () => name };
}
