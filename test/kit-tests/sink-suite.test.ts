import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Batch, StreamingContext } from 'sluice';
import { fileSink } from 'sluice/checkpoint';
import type { BatchContext } from 'sluice/extend';
import { sinkSuite, type SinkFixture } from '../kit/sink-suite.js';

/**
 * fileSink behind the suite's adapter: its output operation is run for one batch with a batch
 * context that only knows the batch id and hands it the records.
 */
async function fileSinkFixture(): Promise<SinkFixture<unknown>> {
  const directory = await mkdtemp(join(tmpdir(), 'sluice-sink-suite-'));
  const ctx = new StreamingContext({ batchInterval: 1000 });
  const output = fileSink<unknown>(directory)(ctx.queueStream<unknown>());
  return {
    write: (batchId, records) => {
      const bc = { batchId, batchTime: (batchId + 1) * 1000, memo: () => Promise.resolve(Batch.of(records, 2)) };
      return output.run(bc as unknown as BatchContext);
    },
    read: async () => {
      const names = (await readdir(directory)).sort();
      return Promise.all(names.map(async (name) => [name, await readFile(join(directory, name), 'utf8')]));
    },
    cleanup: () => rm(directory, { recursive: true, force: true }),
  };
}

/** The in-memory sink of the examples: batch id -> records, overwritten on replay. */
function mapSinkFixture(): Promise<SinkFixture<unknown>> {
  const rows = new Map<number, unknown[]>();
  return Promise.resolve({
    write: (batchId, records) => Promise.resolve(void rows.set(batchId, [...records])),
    read: () => Promise.resolve([...rows].sort((a, b) => a[0] - b[0])),
  });
}

/** Not idempotent: appends every write. */
function appendingSinkFixture(): Promise<SinkFixture<unknown>> {
  const rows: unknown[] = [];
  return Promise.resolve({
    write: (_batchId, records) => Promise.resolve(void rows.push(...records)),
    read: () => Promise.resolve([...rows]),
  });
}

describe('sinkSuite over fileSink', () => {
  sinkSuite({ test: it, factory: fileSinkFixture });
});

describe('sinkSuite over an in-memory map keyed by batch id', () => {
  sinkSuite({ test: it, factory: mapSinkFixture, record: (batch, index) => `${batch}/${index}` });
});

describe('sinkSuite catches a sink that is not idempotent', () => {
  it('an appending sink fails every replay case, and only those', async () => {
    const cases = new Map<string, () => Promise<void>>();
    sinkSuite({ test: (name, fn) => cases.set(name, fn), factory: appendingSinkFixture });
    const failing: string[] = [];
    const errors: string[] = [];
    for (const [name, fn] of cases) {
      await fn().catch((error: unknown) => {
        failing.push(name);
        errors.push(String(error));
      });
    }
    expect(failing).toEqual([
      'Sink: writing a batch again leaves what writing it once left',
      'Sink: replaying earlier batches after later ones leaves the sink as it was',
      'Sink: any sequence of batches with replays leaves what writing each batch once leaves',
    ]);
    expect(errors.at(-1)).toMatch(/seed: -?\d+, path: "[\d:]*"[\s\S]*Counterexample: /);
  });
});
