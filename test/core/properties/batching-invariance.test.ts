import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  cogroup,
  combineByKey,
  countByValue,
  filter,
  flatMap,
  flatMapValues,
  fullOuterJoin,
  glom,
  groupByKey,
  join,
  leftOuterJoin,
  map,
  mapPartitions,
  mapToPair,
  mapValues,
  reduceByKey,
  repartition,
  rightOuterJoin,
  transform,
  union,
  type Batch,
  type DStream,
  type Key,
  type KeyedOptions,
  type Pair,
} from 'sluice';
import { batched, batchingInvariance, runBatches } from 'sluice/testing';

/*
 * Batching invariance: a stream cut into batches in any way gives, for the stateless operators,
 * the same records as the operators applied to the whole input at once; the per-batch keyed
 * operators equal a plain fold over each batch and do not depend on partitioning. Pipelines are
 * generated as plain data (so a counterexample prints readably) and interpreted twice: through
 * Sluice, and through the array model below, which never touches Sluice.
 *
 * Over 400 lines on purpose: laws A-D share one vocabulary of generated steps, keys and models;
 * split into files, each would need its own copy of them.
 */

// ---- user functions, as data -------------------------------------------------------------------

type MapFn = { readonly fn: 'affine'; readonly a: number; readonly b: number } | { readonly fn: 'mod'; readonly m: number } | { readonly fn: 'abs' };
type Pred = { readonly fn: 'modNot'; readonly m: number; readonly r: number } | { readonly fn: 'atLeast'; readonly c: number } | { readonly fn: 'even' };
type FlatFn = { readonly fn: 'repeat'; readonly k: number } | { readonly fn: 'pair'; readonly a: number } | { readonly fn: 'dropMultiples'; readonly m: number };

/** A non-negative remainder, so no step ever produces `-0`. */
const mod = (x: number, m: number): number => ((x % m) + m) % m;

function mapFn(f: MapFn): (x: number) => number {
  switch (f.fn) {
    case 'affine':
      return (x) => x * f.a + f.b;
    case 'mod':
      return (x) => mod(x, f.m);
    case 'abs':
      return (x) => Math.abs(x);
  }
}

function pred(p: Pred): (x: number) => boolean {
  switch (p.fn) {
    case 'modNot':
      return (x) => mod(x, p.m) !== p.r;
    case 'atLeast':
      return (x) => x >= p.c;
    case 'even':
      return (x) => mod(x, 2) === 0;
  }
}

function flatFn(g: FlatFn): (x: number) => number[] {
  switch (g.fn) {
    case 'repeat':
      return (x) => Array.from({ length: g.k }, () => x);
    case 'pair':
      return (x) => [x, x + g.a];
    case 'dropMultiples':
      return (x) => (mod(x, g.m) === 0 ? [] : [x, x]);
  }
}

const mapFnArb: fc.Arbitrary<MapFn> = fc.oneof(
  fc.record({ fn: fc.constant('affine' as const), a: fc.integer({ min: -3, max: 3 }), b: fc.integer({ min: -5, max: 5 }) }),
  fc.record({ fn: fc.constant('mod' as const), m: fc.integer({ min: 1, max: 5 }) }),
  fc.constant({ fn: 'abs' as const }),
);
const predArb: fc.Arbitrary<Pred> = fc.oneof(
  fc.integer({ min: 1, max: 4 }).chain((m) => fc.record({ fn: fc.constant('modNot' as const), m: fc.constant(m), r: fc.integer({ min: 0, max: m - 1 }) })),
  fc.record({ fn: fc.constant('atLeast' as const), c: fc.integer({ min: -10, max: 10 }) }),
  fc.constant({ fn: 'even' as const }),
);
const flatFnArb: fc.Arbitrary<FlatFn> = fc.oneof(
  fc.record({ fn: fc.constant('repeat' as const), k: fc.integer({ min: 0, max: 2 }) }),
  fc.record({ fn: fc.constant('pair' as const), a: fc.integer({ min: -3, max: 3 }) }),
  fc.record({ fn: fc.constant('dropMultiples' as const), m: fc.integer({ min: 2, max: 4 }) }),
);

// ---- pipeline steps, as data -------------------------------------------------------------------

type TransformVariant = 'same' | 'batchMap' | 'batchFilter' | 'toArrayMap' | 'asyncFlatMap';

/** Steps that keep the order of records within a batch. */
type OrderedStep =
  | { readonly op: 'map'; readonly f: MapFn }
  | { readonly op: 'filter'; readonly p: Pred }
  | { readonly op: 'flatMap'; readonly g: FlatFn }
  | { readonly op: 'mapPartitions'; readonly g: FlatFn }
  | { readonly op: 'glomFlatten' }
  | { readonly op: 'transform'; readonly variant: TransformVariant; readonly f: MapFn; readonly p: Pred; readonly g: FlatFn }
  | { readonly op: 'pairs'; readonly keyMod: number; readonly stringKey: boolean; readonly f: MapFn; readonly g: FlatFn };

/** Steps that keep the records of a batch but not their order. */
type ShufflingStep = { readonly op: 'union'; readonly copy: MapFn | null } | { readonly op: 'repartition'; readonly n: number };

type Step = OrderedStep | ShufflingStep;

const orderedStepArb: fc.Arbitrary<OrderedStep> = fc.oneof(
  fc.record({ op: fc.constant('map' as const), f: mapFnArb }),
  fc.record({ op: fc.constant('filter' as const), p: predArb }),
  fc.record({ op: fc.constant('flatMap' as const), g: flatFnArb }),
  fc.record({ op: fc.constant('mapPartitions' as const), g: flatFnArb }),
  fc.constant({ op: 'glomFlatten' as const }),
  fc.record({
    op: fc.constant('transform' as const),
    variant: fc.constantFrom<TransformVariant>('same', 'batchMap', 'batchFilter', 'toArrayMap', 'asyncFlatMap'),
    f: mapFnArb,
    p: predArb,
    g: flatFnArb,
  }),
  fc.record({ op: fc.constant('pairs' as const), keyMod: fc.integer({ min: 1, max: 4 }), stringKey: fc.boolean(), f: mapFnArb, g: flatFnArb }),
);
const shufflingStepArb: fc.Arbitrary<ShufflingStep> = fc.oneof(
  fc.record({ op: fc.constant('union' as const), copy: fc.option(mapFnArb, { nil: null }) }),
  fc.record({ op: fc.constant('repartition' as const), n: fc.integer({ min: 1, max: 4 }) }),
);

/** 1..6 order-preserving steps. */
const orderedPipelineArb = fc.array(orderedStepArb, { minLength: 1, maxLength: 6 });

/** 1..6 steps, at least one of which is a union or a repartition (at a generated position). */
const shufflingPipelineArb: fc.Arbitrary<Step[]> = fc
  .tuple(fc.array(fc.oneof(orderedStepArb, shufflingStepArb), { maxLength: 5 }), shufflingStepArb, fc.nat())
  .map(([steps, shuffle, at]) => {
    const i = at % (steps.length + 1);
    return [...steps.slice(0, i), shuffle, ...steps.slice(i)];
  });

/** The input records, before the kit cuts them into batches. */
const recordsArb = fc.array(fc.integer({ min: -20, max: 20 }), { maxLength: 40 });
/** Input batches (the kit's cuts): concatenated, they are the whole input; every cut (empty batches too) is reachable. */
const batchesArb = batched(fc, recordsArb, { maxBatches: 6 });
const numPartitionsArb = fc.integer({ min: 1, max: 4 });

/** The step as a Sluice operator. */
function toSluice(step: Step, s: DStream<number>): DStream<number> {
  switch (step.op) {
    case 'map':
      return s.pipe(map(mapFn(step.f)));
    case 'filter':
      return s.pipe(filter(pred(step.p)));
    case 'flatMap':
      return s.pipe(flatMap(flatFn(step.g)));
    case 'mapPartitions': {
      const g = flatFn(step.g);
      return s.pipe(mapPartitions((records: readonly number[]) => records.flatMap(g)));
    }
    case 'glomFlatten':
      return s.pipe(glom(), flatMap((records: number[]) => records));
    case 'transform':
      return s.pipe(transformOf(step));
    case 'pairs': {
      const { keyMod, stringKey } = step;
      return s.pipe(
        mapToPair((x: number): Pair<string | number, number> => [stringKey ? `k${mod(x, keyMod)}` : mod(x, keyMod), x]),
        mapValues(mapFn(step.f)),
        flatMapValues(flatFn(step.g)),
        map(([k, v]: Pair<string | number, number>) => v + (typeof k === 'string' ? Number(k.slice(1)) : k)),
      );
    }
    case 'union':
      return s.pipe(union(step.copy === null ? s : s.pipe(map(mapFn(step.copy)))));
    case 'repartition':
      return s.pipe(repartition(step.n));
  }
}

function transformOf(step: Extract<OrderedStep, { op: 'transform' }>): (s: DStream<number>) => DStream<number> {
  switch (step.variant) {
    case 'same':
      return transform((batch: Batch<number>) => batch);
    case 'batchMap':
      return transform((batch: Batch<number>) => batch.map(mapFn(step.f)));
    case 'batchFilter':
      return transform((batch: Batch<number>) => batch.filter(pred(step.p)));
    case 'toArrayMap':
      return transform((batch: Batch<number>) => batch.toArray().map(mapFn(step.f)));
    case 'asyncFlatMap':
      return transform(async (batch: Batch<number>) => {
        await Promise.resolve();
        return batch.flatMap(flatFn(step.g));
      });
  }
}

/** The reference model of a step: plain array functions, no Sluice. */
function toModel(step: Step, xs: readonly number[]): number[] {
  switch (step.op) {
    case 'map':
      return xs.map(mapFn(step.f));
    case 'filter':
      return xs.filter(pred(step.p));
    case 'flatMap':
    case 'mapPartitions':
      return xs.flatMap(flatFn(step.g));
    case 'glomFlatten':
      return [...xs];
    case 'transform':
      switch (step.variant) {
        case 'same':
          return [...xs];
        case 'batchMap':
        case 'toArrayMap':
          return xs.map(mapFn(step.f));
        case 'batchFilter':
          return xs.filter(pred(step.p));
        case 'asyncFlatMap':
          return xs.flatMap(flatFn(step.g));
      }
      break;
    case 'pairs': {
      const f = mapFn(step.f);
      const g = flatFn(step.g);
      return xs.flatMap((x) => g(f(x)).map((v) => v + mod(x, step.keyMod)));
    }
    case 'union':
      return [...xs, ...(step.copy === null ? xs : xs.map(mapFn(step.copy)))];
    case 'repartition':
      return [...xs];
  }
}

const runPipeline = (steps: readonly Step[]) => (s: DStream<number>): DStream<number> => steps.reduce((acc, step) => toSluice(step, acc), s);
const modelPipeline = (steps: readonly Step[], xs: readonly number[]): number[] => steps.reduce<number[]>((acc, step) => toModel(step, acc), [...xs]);
const ascending = (xs: readonly number[]): number[] => [...xs].sort((a, b) => a - b);

describe('batching invariance of the stateless operators', () => {
  it('law A: order-preserving steps give, concatenated over any cut into batches, the model applied to the whole input, in order', async () => {
    await fc.assert(
      fc.asyncProperty(batchesArb, orderedPipelineArb, numPartitionsArb, async (batches, steps, numPartitions) => {
        const out = await runBatches(batches, runPipeline(steps), { numPartitions });
        expect(out).toHaveLength(batches.length);
        expect(out.flat()).toEqual(modelPipeline(steps, batches.flat()));
        out.forEach((records, i) => {
          expect(records).toEqual(modelPipeline(steps, batches[i] ?? []));
        });
      }),
    );
  });

  it("the kit's batchingInvariance law holds for a representative order-preserving pipeline", async () => {
    const pipeline: readonly OrderedStep[] = [
      { op: 'map', f: { fn: 'affine', a: 3, b: -1 } },
      { op: 'filter', p: { fn: 'modNot', m: 3, r: 1 } },
      { op: 'flatMap', g: { fn: 'pair', a: 2 } },
      { op: 'mapPartitions', g: { fn: 'dropMultiples', m: 4 } },
      { op: 'glomFlatten' },
      { op: 'transform', variant: 'asyncFlatMap', f: { fn: 'abs' }, p: { fn: 'even' }, g: { fn: 'repeat', k: 2 } },
      { op: 'pairs', keyMod: 3, stringKey: true, f: { fn: 'mod', m: 5 }, g: { fn: 'pair', a: -1 } },
    ];
    await fc.assert(batchingInvariance(fc, { build: runPipeline(pipeline), records: recordsArb, maxBatches: 6, numPartitions: 3 }));
  });

  it('law B: with union or repartition in the pipeline, the concatenation equals the model of the whole input as a multiset', async () => {
    await fc.assert(
      fc.asyncProperty(batchesArb, shufflingPipelineArb, numPartitionsArb, async (batches, steps, numPartitions) => {
        const out = await runBatches(batches, runPipeline(steps), { numPartitions });
        expect(out).toHaveLength(batches.length);
        expect(ascending(out.flat())).toEqual(ascending(modelPipeline(steps, batches.flat())));
        out.forEach((records, i) => {
          expect(ascending(records)).toEqual(ascending(modelPipeline(steps, batches[i] ?? [])));
        });
      }),
    );
  });
});

// ---- keyed operators ---------------------------------------------------------------------------

/**
 * Keys that exercise comparison by value: `1` vs `'1'`, `true` vs `'true'`, `-0` vs `0`, `NaN`, a
 * bigint, prototype names and array keys.
 */
const keyArb: fc.Arbitrary<Key> = fc.oneof(
  fc.constantFrom<Key>('a', 'b', '1', 'true', '__proto__', 'constructor', 0, -0, 1, 2, Number.NaN, true, 5n),
  fc.tuple(fc.constantFrom('x', 'y'), fc.integer({ min: 0, max: 2 })).map(([s, n]): Key => [s, n]),
);
const valueArb = fc.integer({ min: -50, max: 50 });
const pairBatchesArb = batched(fc, fc.array(fc.tuple(keyArb, valueArb), { maxLength: 40 }), { maxBatches: 5 });
const keyBatchesArb = batched(fc, fc.array(keyArb, { maxLength: 40 }), { maxBatches: 5 });
/** The right input of the two-input operators: the kit's cuts, or no batch at all (a right stream that never emits). */
const rightBatchesArb = fc.oneof(
  { weight: 1, arbitrary: fc.constant<[Key, string][][]>([]) },
  { weight: 5, arbitrary: batched(fc, fc.array(fc.tuple(keyArb, fc.constantFrom('p', 'q', 'r')), { maxLength: 24 }), { maxBatches: 5 }) },
);
const keyedOptionsArb: fc.Arbitrary<KeyedOptions> = fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }).map((n) => (n === undefined ? {} : { numPartitions: n }));

/** A key's identity by value (its own encoding, not Sluice's): `-0` is `0`, `1` is not `'1'`. */
function showKey(key: Key): string {
  if (Array.isArray(key)) return `[${(key as readonly Key[]).map(showKey).join(',')}]`;
  switch (typeof key) {
    case 'string':
      return JSON.stringify(key);
    case 'number':
      return Object.is(key, -0) ? 'n0' : `n${key}`;
    case 'bigint':
      return `b${String(key)}`;
    default:
      return `bool${String(key)}`;
  }
}

/** A value as text, for multiset comparison. */
function show(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(show).join(',')}]`;
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

/** A keyed output as a sorted list of `key=>value` lines: a multiset with keys compared by value. */
const showPairs = (pairs: readonly (readonly [Key, unknown])[]): string[] => pairs.map(([k, v]) => `${showKey(k)}=>${show(v)}`).sort();

/** Groups values by key, keys in first-seen order, values in arrival order. */
function group<V>(pairs: readonly (readonly [Key, V])[]): Map<string, { readonly key: Key; readonly values: V[] }> {
  const groups = new Map<string, { readonly key: Key; readonly values: V[] }>();
  for (const [key, value] of pairs) {
    const id = showKey(key);
    const g = groups.get(id);
    if (g === undefined) groups.set(id, { key, values: [value] });
    else g.values.push(value);
  }
  return groups;
}

function foldByKey<V>(pairs: readonly (readonly [Key, V])[], fn: (a: V, b: V) => V): [Key, V][] {
  return [...group(pairs).values()].map(({ key, values }) => [key, values.reduce(fn)]);
}

const countsOf = (keys: readonly Key[]): [Key, number][] => [...group(keys.map((k) => [k, 1] as const)).values()].map(({ key, values }) => [key, values.length]);

const distinctKeys = (pairs: readonly (readonly [Key, unknown])[]): number => new Set(pairs.map(([k]) => showKey(k))).size;

const reducers = { sum: (a: number, b: number) => a + b, max: (a: number, b: number) => Math.max(a, b) } as const;

describe('batching laws of the per-batch keyed operators', () => {
  it.each(Object.keys(reducers) as (keyof typeof reducers)[])(
    'law C: reduceByKey(%s) equals a fold per batch, and re-reducing the batches equals reducing the whole input',
    async (name) => {
      const fn = reducers[name];
      await fc.assert(
        fc.asyncProperty(pairBatchesArb, numPartitionsArb, keyedOptionsArb, async (batches, numPartitions, options) => {
          const out = await runBatches(batches, (s: DStream<Pair<Key, number>>) => s.pipe(reduceByKey(fn, options)), { numPartitions });
          expect(out).toHaveLength(batches.length);
          out.forEach((records, i) => {
            expect(distinctKeys(records)).toBe(records.length);
            expect(showPairs(records)).toEqual(showPairs(foldByKey(batches[i] ?? [], fn)));
          });
          expect(showPairs(foldByKey(out.flat(), fn))).toEqual(showPairs(foldByKey(batches.flat(), fn)));
        }),
      );
    },
  );

  it('law C: countByValue per batch, summed over batches, equals countByValue of the whole input', async () => {
    await fc.assert(
      fc.asyncProperty(keyBatchesArb, numPartitionsArb, keyedOptionsArb, async (batches, numPartitions, options) => {
        const out = await runBatches(batches, (s: DStream<Key>) => s.pipe(countByValue(options)), { numPartitions });
        expect(out).toHaveLength(batches.length);
        out.forEach((records, i) => {
          expect(distinctKeys(records)).toBe(records.length);
          expect(showPairs(records)).toEqual(showPairs(countsOf(batches[i] ?? [])));
        });
        expect(showPairs(foldByKey(out.flat(), reducers.sum))).toEqual(showPairs(countsOf(batches.flat())));
      }),
    );
  });

  it('law C: groupByKey per batch equals a plain grouping of the batch, values in arrival order', async () => {
    await fc.assert(
      fc.asyncProperty(pairBatchesArb, numPartitionsArb, keyedOptionsArb, async (batches, numPartitions, options) => {
        const out = await runBatches(batches, (s: DStream<Pair<Key, number>>) => s.pipe(groupByKey(options)), { numPartitions });
        expect(out).toHaveLength(batches.length);
        out.forEach((records, i) => {
          expect(distinctKeys(records)).toBe(records.length);
          const expected = [...group(batches[i] ?? []).values()].map(({ key, values }) => [key, values] as const);
          expect(showPairs(records)).toEqual(showPairs(expected));
        });
      }),
    );
  });

  it('law C: combineByKey per batch equals a fold, and merging the batches equals combining the whole input', async () => {
    const sumCount = (pairs: readonly (readonly [Key, number])[]): [Key, [number, number]][] =>
      [...group(pairs).values()].map(({ key, values }) => [key, [values.reduce(reducers.sum), values.length]]);
    const merge = (a: readonly [number, number], b: readonly [number, number]): [number, number] => [a[0] + b[0], a[1] + b[1]];
    await fc.assert(
      fc.asyncProperty(pairBatchesArb, numPartitionsArb, keyedOptionsArb, async (batches, numPartitions, options) => {
        const out = await runBatches(
          batches,
          (s: DStream<Pair<Key, number>>) =>
            s.pipe(
              combineByKey<Key, number, [number, number]>(
                { create: (v) => [v, 1], mergeValue: ([sum, n], v) => [sum + v, n + 1], mergeCombiners: merge },
                options,
              ),
            ),
          { numPartitions },
        );
        out.forEach((records, i) => {
          expect(showPairs(records)).toEqual(showPairs(sumCount(batches[i] ?? [])));
        });
        expect(showPairs(foldByKey<readonly [number, number]>(out.flat(), merge))).toEqual(showPairs(sumCount(batches.flat())));
      }),
    );
  });
});

// ---- law D: keyed results do not depend on the number of partitions ----------------------------

type LeftPair = readonly [Key, number];
type RightPair = readonly [Key, string];

interface KeyedCase {
  readonly name: string;
  /** Whether the operator reads the right input too. */
  readonly twoInputs: boolean;
  /** Runs the operator over `left` (and `right`, for two-input operators) with `numPartitions`. */
  readonly run: (left: readonly LeftPair[][], right: readonly RightPair[][], numPartitions: number) => Promise<readonly (readonly (readonly [Key, unknown])[])[]>;
  /** The operator's records for one batch, by the model. */
  readonly model: (left: readonly LeftPair[], right: readonly RightPair[]) => (readonly [Key, unknown])[];
}

/** Every key of either side (first-seen order, left side first) with its values on each side, in arrival order. */
function sides(left: readonly LeftPair[], right: readonly RightPair[]): { key: Key; lefts: number[]; rights: string[] }[] {
  const l = group(left);
  const r = group(right);
  const ids = [...new Set([...l.keys(), ...r.keys()])];
  return ids.map((id) => ({ key: (l.get(id) ?? r.get(id))?.key as Key, lefts: l.get(id)?.values ?? [], rights: r.get(id)?.values ?? [] }));
}

function joinModel(keep: { readonly left: boolean; readonly right: boolean }) {
  return (left: readonly LeftPair[], right: readonly RightPair[]): (readonly [Key, unknown])[] =>
    sides(left, right).flatMap<readonly [Key, unknown]>(({ key, lefts, rights }) => {
      if (lefts.length === 0) return keep.right ? rights.map((w) => [key, [undefined, w]] as const) : [];
      if (rights.length === 0) return keep.left ? lefts.map((v) => [key, [v, undefined]] as const) : [];
      return lefts.flatMap((v) => rights.map((w) => [key, [v, w]] as const));
    });
}

const oneInput = (build: (s: DStream<LeftPair>) => DStream<readonly [Key, unknown]>): KeyedCase['run'] => (left, _right, numPartitions) =>
  runBatches(left, build, { numPartitions });
const twoInputs = (build: (l: DStream<LeftPair>, r: DStream<RightPair>) => DStream<readonly [Key, unknown]>): KeyedCase['run'] => (left, right, numPartitions) =>
  runBatches({ left, right }, ({ left: l, right: r }) => build(l, r), { numPartitions });

const keyedCases: readonly KeyedCase[] = [
  {
    name: 'reduceByKey',
    twoInputs: false,
    run: oneInput((s) => s.pipe(reduceByKey<Key, number>(reducers.sum))),
    model: (left) => foldByKey(left, reducers.sum),
  },
  {
    name: 'groupByKey',
    twoInputs: false,
    run: oneInput((s) => s.pipe(groupByKey<Key, number>())),
    model: (left) => [...group(left).values()].map(({ key, values }) => [key, values] as const),
  },
  {
    name: 'countByValue',
    twoInputs: false,
    run: oneInput((s) => s.pipe(map(([k]: LeftPair) => k), countByValue<Key>())),
    model: (left) => countsOf(left.map(([k]) => k)),
  },
  {
    name: 'join',
    twoInputs: true,
    run: twoInputs((l, r) => l.pipe(join<Key, number, string>(r))),
    model: joinModel({ left: false, right: false }),
  },
  {
    name: 'leftOuterJoin',
    twoInputs: true,
    run: twoInputs((l, r) => l.pipe(leftOuterJoin<Key, number, string>(r))),
    model: joinModel({ left: true, right: false }),
  },
  {
    name: 'rightOuterJoin',
    twoInputs: true,
    run: twoInputs((l, r) => l.pipe(rightOuterJoin<Key, number, string>(r))),
    model: joinModel({ left: false, right: true }),
  },
  {
    name: 'fullOuterJoin',
    twoInputs: true,
    run: twoInputs((l, r) => l.pipe(fullOuterJoin<Key, number, string>(r))),
    model: joinModel({ left: true, right: true }),
  },
  {
    name: 'cogroup',
    twoInputs: true,
    run: twoInputs((l, r) => l.pipe(cogroup<Key, number, string>(r))),
    model: (left, right) => sides(left, right).map(({ key, lefts, rights }) => [key, [lefts, rights]] as const),
  },
];

describe('law D: keyed results do not depend on the number of partitions', () => {
  it.each(keyedCases.map((c) => [c.name, c] as const))('%s gives the same records with 1 and 3 partitions, and equals the model', async (_name, c) => {
    await fc.assert(
      fc.asyncProperty(pairBatchesArb, rightBatchesArb, async (left, right) => {
        const one = await c.run(left, right, 1);
        const three = await c.run(left, right, 3);
        const numBatches = c.twoInputs ? Math.max(left.length, right.length) : left.length;
        expect(one).toHaveLength(numBatches);
        expect(three.map(showPairs)).toEqual(one.map(showPairs));
        one.forEach((records, i) => {
          expect(showPairs(records)).toEqual(showPairs(c.model(left[i] ?? [], c.twoInputs ? (right[i] ?? []) : [])));
        });
      }),
    );
  });
});
