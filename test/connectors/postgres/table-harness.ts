import { foreachBatch, ManualClock, StreamingContext, type BatchProgress, type DStream, type SourceProgress } from 'sluice';
import type { CheckpointStorage } from 'sluice/extend';
import { tableName, testPool } from './pg-harness.js';

/*
 * What the postgresTable suites share: a rates table in PostgreSQL (code -> rate) the tests
 * change between batches, a context on a ManualClock with its progress events, and the outputs
 * of a stream by batch.
 */

/** A row of the rates table. */
export interface Rate {
  readonly code: string;
  readonly rate: number;
}

/** A fresh rates table holding `rates` (dropped after the file), and the query of it. */
export async function ratesTable(rates: Readonly<Record<string, number>>): Promise<{ table: string; query: string }> {
  const table = tableName('rates');
  await testPool().query(`CREATE TABLE "${table}" (code text PRIMARY KEY, rate double precision NOT NULL)`);
  await setRates(table, rates);
  return { table, query: `SELECT code, rate FROM "${table}" ORDER BY code` };
}

/** Replaces the rates table's rows with `rates`. */
export async function setRates(table: string, rates: Readonly<Record<string, number>>): Promise<void> {
  const pool = testPool();
  await pool.query(`DELETE FROM "${table}"`);
  for (const [code, rate] of Object.entries(rates)) await pool.query(`INSERT INTO "${table}" (code, rate) VALUES ($1, $2)`, [code, rate]);
}

/** A context on a ManualClock at 0 (1 s batches), with every batch's progress kept. */
export function tableContext(checkpoint?: CheckpointStorage, clock = new ManualClock()): { ctx: StreamingContext; clock: ManualClock; progress: BatchProgress[] } {
  const ctx = new StreamingContext({ batchInterval: 1000, clock, ...(checkpoint === undefined ? {} : { checkpoint }) });
  const progress: BatchProgress[] = [];
  ctx.addListener((event) => {
    if (event.type === 'batchCompleted') progress.push(event.progress);
  });
  return { ctx, clock, progress };
}

/** Collects what `stream` gives, by batch id. */
export function collect<T>(stream: DStream<T>): Map<number, T[]> {
  const out = new Map<number, T[]>();
  stream.pipe(
    foreachBatch<T>((records, { batchId }) => {
      out.set(batchId, [...records]);
    }),
  );
  return out;
}

/** The progress entry of source `name` in each batch. */
export function sourceProgress(progress: readonly BatchProgress[], name: string): SourceProgress[] {
  return progress.map((p) => p.sources.find((s) => s.source === name) as SourceProgress);
}

/** The version number a source progress entry ended at. */
export function versionOf(entry: SourceProgress): number {
  return (entry.endOffset as { version: number }).version;
}
