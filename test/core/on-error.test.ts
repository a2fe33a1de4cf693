import { describe, expect, it } from 'vitest';
import {
  countByValue,
  filter,
  flatMap,
  flatMapValues,
  foreachBatch,
  keyBy,
  ManualClock,
  map,
  mapToPair,
  mapValues,
  reduceByKey,
  SluiceError,
  StreamingContext,
  type BatchProgress,
  type DeadLetter,
  type DStream,
  type OnError,
} from 'sluice';

/** What a run on a manual clock saw: each batch's output, the dead letters, the progress events, the failure. */
interface Run<U> {
  readonly out: U[][];
  readonly dead: DeadLetter[];
  readonly progress: BatchProgress[];
  readonly error: unknown;
}

async function run<T, U>(input: readonly T[][], build: (s: DStream<T>) => DStream<U>, options: { readonly onError?: OnError; readonly deadLettersFirst?: boolean } = {}): Promise<Run<U>> {
  const clock = new ManualClock();
  const ctx = new StreamingContext({ batchInterval: 1000, clock, defaultParallelism: 2, ...(options.onError === undefined ? {} : { onError: options.onError }) });
  const out: U[][] = [];
  const dead: DeadLetter[] = [];
  const progress: BatchProgress[] = [];
  const routeDeadLetters = (): void => {
    ctx.deadLetters.pipe(foreachBatch((letters) => void dead.push(...letters)));
  };
  if (options.deadLettersFirst === true) routeDeadLetters();
  build(ctx.queueStream(input.map((batch) => [...batch]), { numPartitions: 2 })).pipe(foreachBatch((records) => void out.push([...records])));
  if (options.deadLettersFirst !== true) routeDeadLetters();
  ctx.addListener((event) => {
    if (event.type === 'batchCompleted') progress.push(event.progress);
  });
  let error: unknown;
  const done = ctx.awaitTermination().catch((e: unknown) => {
    error = e;
  });
  await ctx.start();
  for (let i = 0; i < input.length; i++) await clock.advance(1000);
  await ctx.stop();
  await done;
  return { out, dead, progress, error };
}

const parse = (text: string): number => {
  const n = Number(text);
  if (!Number.isInteger(n)) throw new TypeError(`not an integer: ${text}`);
  return n;
};

describe('onError on stateless operators', () => {
  const input = [['1', 'x', '2'], ['y'], ['3']];

  it("'fail' (the default) fails the batch, as without the option", async () => {
    const { out, error } = await run(input, (s) => s.pipe(map(parse)));
    expect(out).toEqual([]);
    expect(error).toBeInstanceOf(SluiceError);
    expect((error as SluiceError).code).toBe('USER_FUNCTION_FAILED');
    expect((error as SluiceError).batchId).toBe(0);
  });

  it("map with 'skip' drops the records it throws on and keeps the others in order", async () => {
    const { out, dead, error } = await run(input, (s) => s.pipe(map(parse, { onError: 'skip' })));
    expect(error).toBeUndefined();
    expect(out).toEqual([[1, 2], [], [3]]);
    expect(dead).toEqual([]);
  });

  it("map with 'deadLetter' sends each record it throws on to ctx.deadLetters with the operator, batch, message and code", async () => {
    const { out, dead } = await run(input, (s) => s.pipe(map(parse, { onError: 'deadLetter', name: 'parse' })));
    expect(out).toEqual([[1, 2], [], [3]]);
    expect(dead).toEqual([
      { operator: 'parse', batchId: 0, record: 'x', message: 'not an integer: x', code: 'USER_FUNCTION_FAILED' },
      { operator: 'parse', batchId: 1, record: 'y', message: 'not an integer: y', code: 'USER_FUNCTION_FAILED' },
    ]);
  });

  it('ctx.deadLetters routed before the operators still gets the dead letters of the batch', async () => {
    const { out, dead } = await run(input, (s) => s.pipe(map(parse, { onError: 'deadLetter' })), { deadLettersFirst: true });
    expect(out).toEqual([[1, 2], [], [3]]);
    expect(dead.map((d) => [d.batchId, d.record])).toEqual([[0, 'x'], [1, 'y']]);
  });

  it("filter and flatMap follow their own policy; a fused chain sets aside each operator's records under its own name", async () => {
    const { out, dead } = await run([['a', 'bb', 'ccc', '']], (s) =>
      s.pipe(
        flatMap(
          (w: string) => {
            if (w === '') throw new Error('empty');
            return Array.from(w);
          },
          { onError: 'deadLetter', name: 'letters' },
        ),
        filter(
          (c: string) => {
            if (c === 'b') throw new Error('no b');
            return c !== 'a';
          },
          { onError: 'deadLetter', name: 'noA' },
        ),
      ),
    );
    expect(out).toEqual([['c', 'c', 'c']]);
    expect(dead.map((d) => [d.operator, d.record, d.message])).toEqual([
      ['letters', '', 'empty'],
      ['noA', 'b', 'no b'],
      ['noA', 'b', 'no b'],
    ]);
  });

  it("a generator that throws midway keeps what it emitted before, under 'skip'", async () => {
    const { out } = await run([[3, 1]], (s) =>
      s.pipe(
        flatMap(
          function* (n: number) {
            yield n;
            if (n === 3) throw new Error('three');
            yield n * 10;
          },
          { onError: 'skip' },
        ),
      ),
    );
    expect(out).toEqual([[3, 1, 10]]);
  });

  it("the context's onError is the default of every operator; an operator's own option wins", async () => {
    const skipped = await run(input, (s) => s.pipe(map(parse)), { onError: 'skip' });
    expect(skipped.out).toEqual([[1, 2], [], [3]]);
    const failed = await run(input, (s) => s.pipe(map(parse, { onError: 'fail' })), { onError: 'skip' });
    expect((failed.error as SluiceError).code).toBe('USER_FUNCTION_FAILED');
  });

  it('counts skipped and dead-lettered records per operator in the progress event, and in total', async () => {
    const { progress } = await run(input, (s) =>
      s.pipe(
        map(parse, { onError: 'skip', name: 'parse' }),
        filter(
          (n: number) => {
            if (n === 2) throw new Error('two');
            return true;
          },
          { onError: 'deadLetter', name: 'noTwo' },
        ),
      ),
    );
    expect(progress.map((p) => [p.numSkippedRecords, p.numDeadLetteredRecords])).toEqual([[1, 1], [1, 0], [0, 0]]);
    expect(progress[0]?.operators).toEqual([
      { operator: 'parse', skippedRecords: 1, deadLetteredRecords: 0 },
      { operator: 'noTwo', skippedRecords: 0, deadLetteredRecords: 1 },
    ]);
    expect(progress[2]?.operators).toEqual([]);
  });

  it('mapToPair, keyBy and mapValues take the policy too', async () => {
    const boom = (): never => {
      throw new Error('boom');
    };
    const a = await run([[1, 2]], (s) => s.pipe(mapToPair((n: number) => (n === 1 ? boom() : ([n, n] as const)), { onError: 'skip' })));
    expect(a.out).toEqual([[[2, 2]]]);
    const b = await run([[1, 2]], (s) => s.pipe(keyBy((n: number) => (n === 2 ? boom() : n), { onError: 'skip' })));
    expect(b.out).toEqual([[[1, 1]]]);
    const c = await run([[1, 2]], (s) => s.pipe(keyBy((n: number) => n), mapValues((n: number) => (n === 2 ? boom() : n), { onError: 'deadLetter' })));
    expect(c.out).toEqual([[[1, 1]]]);
    expect(c.dead.map((d) => d.record)).toEqual([[2, 2]]);
    const d = await run([[1, 2]], (s) => s.pipe(keyBy((n: number) => n), flatMapValues((n: number) => (n === 2 ? boom() : [n]), { onError: 'skip' })));
    expect(d.out).toEqual([[[1, 1]]]);
  });

  it('refuses a bad onError at once with a TypeError', () => {
    expect(() => map((x: number) => x, { onError: 'ignore' as OnError })).toThrow(/onError must be 'fail', 'skip' or 'deadLetter', got 'ignore'/);
    expect(() => new StreamingContext({ batchInterval: 1000, onError: 'drop' as OnError })).toThrow(TypeError);
  });
});

describe('the failure message', () => {
  it('names an unnamed operator by where it was defined in the user code, and mentions onError', async () => {
    const { error } = await run([['x']], (s) => s.pipe(map(parse)));
    const failure = error as SluiceError;
    expect(failure.operator).toMatch(/^map#\d+$/);
    expect(failure.site).toMatch(/^test\/core\/on-error\.test\.ts:\d+:\d+$/);
    expect(failure.message).toContain(`Operator ${failure.operator} (defined at ${failure.site}) threw in batch 0`);
    expect(failure.message).toContain('not an integer: x');
    expect(failure.message).toContain("onError option (or the context's) to 'skip' or 'deadLetter'");
  });

  it('names a named operator by its name alone', async () => {
    const { error } = await run([['x']], (s) => s.pipe(map(parse, { name: 'parseAmount' })));
    const failure = error as SluiceError;
    expect(failure.operator).toBe('parseAmount');
    expect(failure.site).toBeUndefined();
    expect(failure.message).toMatch(/^Operator parseAmount threw in batch 0 \(batch time \d+\): not an integer: x\. /);
  });

  it('a failure downstream in a fused chain is not set aside by an upstream operator with skip', async () => {
    const { error } = await run([['1']], (s) =>
      s.pipe(
        map(parse, { onError: 'skip' }),
        map(
          (n: number) => {
            throw new Error(`no ${n}`);
          },
          { name: 'second' },
        ),
      ),
    );
    expect((error as SluiceError).operator).toBe('second');
  });
});

describe('onError on keyed operators', () => {
  const pairs = [
    ['a', 1],
    ['b', 0],
    ['a', 2],
    [{ not: 'a key' }, 3],
  ] as unknown as [string, number][];
  const divide = (x: number, y: number): number => {
    if (y === 0) throw new RangeError('divide by zero');
    return x / y;
  };

  it("reduceByKey with 'fail' fails on a key that is not a key", async () => {
    const { error } = await run([pairs], (s) => s.pipe(reduceByKey((x: number, y: number) => x + y)));
    expect((error as SluiceError).code).toBe('USER_FUNCTION_FAILED');
    expect((error as SluiceError).message).toMatch(/Key object .* is not allowed/);
  });

  it("reduceByKey with 'skip' drops a pair whose key is not a key and a pair the reducer throws on", async () => {
    const { out, progress } = await run([[...pairs, ['b', 4] as [string, number]]], (s) => s.pipe(reduceByKey((x: number, y: number) => divide(x, y), { onError: 'skip', numPartitions: 1 })));
    // b: 0, then 0 / 4 = 0; a: 1, then 1 / 2.
    expect(out).toEqual([[['a', 0.5], ['b', 0]]]);
    expect(progress[0]?.numSkippedRecords).toBe(1);
  });

  it("reduceByKey with 'deadLetter' fused after map sends the pair it saw, not the root record", async () => {
    const { out, dead } = await run([[1, 2, 3]], (s) =>
      s.pipe(
        mapToPair((n: number) => ['k', n] as const),
        reduceByKey(
          (x: number, y: number) => {
            if (y === 2) throw new Error('no 2');
            return x + y;
          },
          { onError: 'deadLetter', name: 'sum' },
        ),
      ),
    );
    expect(out).toEqual([[['k', 4]]]);
    expect(dead).toEqual([{ operator: 'sum', batchId: 0, record: ['k', 2], message: 'no 2', code: 'USER_FUNCTION_FAILED' }]);
  });

  it("countByValue with 'skip' drops records that are not keys", async () => {
    const { out } = await run([['a', null, 'a']] as unknown as string[][], (s) => s.pipe(countByValue({ onError: 'skip' })));
    expect(out).toEqual([[['a', 2]]]);
  });
});
