import assert from 'node:assert/strict';
import type * as FastCheck from 'fast-check';

/**
 * A sink under test, fresh and empty, behind an adapter: `write` hands it one batch as the engine
 * would (the same records again when a batch is replayed after a crash), `read` returns what it
 * holds, as a value compared with `assert.deepStrictEqual`.
 */
export interface SinkFixture<R> {
  write(batchId: number, records: readonly R[]): Promise<void>;
  read(): Promise<unknown>;
  cleanup?(): Promise<void>;
}

/** Options of {@link sinkSuite}. */
export interface SinkSuiteOptions<R> {
  /** Registers one case with the test runner (vitest's `it`, node:test's `test`, ...). */
  readonly test: (name: string, fn: () => Promise<void>) => void;
  /** Makes a fresh, empty sink for each case (some cases make two). */
  readonly factory: () => Promise<SinkFixture<R>>;
  /** Record `index` of batch `batchId` (default `{ batch, index }`): distinct records in every batch. */
  readonly record?: (batchId: number, index: number) => R;
}

/**
 * The conformance suite of an exactly-once sink: writes are idempotent per batch id, so a batch
 * replayed after a crash, at any time, leaves the sink as if it had been written once. Registers
 * one case per law with `test`; imports no test runner (assertions throw `AssertionError`). The
 * model-based case needs the optional peer `fast-check` and is skipped, with a message, without it.
 *
 * @example
 * import { it } from 'vitest';
 * sinkSuite({ test: it, factory: async () => { const rows = new Map(); return { write: async (id, r) => void rows.set(id, r), read: async () => [...rows] }; } });
 */
export function sinkSuite<R = { batch: number; index: number }>(options: SinkSuiteOptions<R>): void {
  const { test, factory } = options;
  const record = options.record ?? ((batch: number, index: number) => ({ batch, index }) as R);
  const batch = (batchId: number, size = 3): R[] => Array.from({ length: size }, (_, i) => record(batchId, i));
  const withSinks = (name: string, fn: (make: () => Promise<SinkFixture<R>>) => Promise<void>): void => {
    test(`Sink: ${name}`, async () => {
      const made: SinkFixture<R>[] = [];
      try {
        await fn(async () => {
          const fixture = await factory();
          made.push(fixture);
          return fixture;
        });
      } finally {
        for (const fixture of made) await fixture.cleanup?.();
      }
    });
  };

  withSinks('writing a batch again leaves what writing it once left', async (make) => {
    const sink = await make();
    await sink.write(0, batch(0));
    const once = await sink.read();
    await sink.write(0, batch(0));
    assert.deepStrictEqual(await sink.read(), once, 'batch 0 written twice');
  });

  withSinks('an empty batch written twice leaves what writing it once left', async (make) => {
    const sink = await make();
    await sink.write(0, batch(0));
    await sink.write(1, []);
    const once = await sink.read();
    await sink.write(1, []);
    assert.deepStrictEqual(await sink.read(), once);
  });

  withSinks('batches accumulate: a later batch shows, and does not erase an earlier one', async (make) => {
    const both = await make();
    await both.write(0, batch(0));
    const first = await both.read();
    await both.write(1, batch(1));
    assert.notDeepStrictEqual(await both.read(), first, 'batch 1 left no trace');
    const onlyLater = await make();
    await onlyLater.write(1, batch(1));
    assert.notDeepStrictEqual(await both.read(), await onlyLater.read(), 'batch 1 erased batch 0');
  });

  withSinks('replaying earlier batches after later ones leaves the sink as it was', async (make) => {
    const sink = await make();
    for (const id of [0, 1, 2]) await sink.write(id, batch(id));
    const written = await sink.read();
    await sink.write(1, batch(1));
    assert.deepStrictEqual(await sink.read(), written, 'batch 1 replayed after batch 2');
    await sink.write(0, batch(0));
    await sink.write(2, batch(2));
    assert.deepStrictEqual(await sink.read(), written, 'batches 0 and 2 replayed');
  });

  test('Sink: any sequence of batches with replays leaves what writing each batch once leaves', async () => {
    let fc: typeof FastCheck;
    try {
      fc = await import('fast-check');
    } catch {
      console.warn('sinkSuite: the model-based case was skipped because fast-check is not installed.');
      return;
    }
    // Batch sizes, and for each batch the earlier batches replayed after it (as after a crash).
    const scenario = fc.array(fc.record({ size: fc.nat(3), replays: fc.array(fc.nat(), { maxLength: 2 }) }), { minLength: 1, maxLength: 6 });
    await fc.assert(
      fc.asyncProperty(scenario, async (batches) => {
        const made: SinkFixture<R>[] = [];
        try {
          const replayed = await factory();
          made.push(replayed);
          for (const [id, { size, replays }] of batches.entries()) {
            await replayed.write(id, batch(id, size));
            for (const r of replays) {
              const earlier = r % (id + 1);
              await replayed.write(earlier, batch(earlier, batches[earlier]?.size));
            }
          }
          const once = await factory();
          made.push(once);
          for (const [id, { size }] of batches.entries()) await once.write(id, batch(id, size));
          assert.deepStrictEqual(await replayed.read(), await once.read());
        } finally {
          for (const fixture of made) await fixture.cleanup?.();
        }
      }),
      { numRuns: 30 },
    );
  });
}
