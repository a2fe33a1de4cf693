import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StreamingContext, foreachBatch, mapToPair, reduceByKey, type Clock } from 'sluice';
import { writeEventFiles, type DemoEvent } from './generate.js';

/** Options of {@link runEventCount}. */
export interface EventCountOptions {
  readonly files?: number;
  readonly eventsPerFile?: number;
  readonly batchInterval?: string | number;
  readonly clock?: Clock;
  /** Where progress lines go (default: nowhere). */
  readonly log?: (line: string) => void;
}

/** What the job counted. */
export interface EventCountResult {
  /** Events per type, sorted by type. */
  readonly totals: readonly (readonly [string, number])[];
  /** Every generated event, for checking. */
  readonly generated: readonly DemoEvent[];
  /** Malformed lines sent to the dead letters. */
  readonly badRecords: number;
  readonly batches: number;
}

/**
 * The demo job: counts events by type over a directory of generated NDJSON files, one progress
 * line per batch; a malformed line goes to the dead letters. Stops gracefully once every line has
 * been read.
 */
export async function runEventCount(options: EventCountOptions = {}): Promise<EventCountResult> {
  const log = options.log ?? (() => undefined);
  const dir = await mkdtemp(join(tmpdir(), 'sluice-demo-'));
  try {
    const generated = await writeEventFiles(dir, options.files ?? 5, options.eventsPerFile ?? 2_000);
    const ctx = new StreamingContext({ batchInterval: options.batchInterval ?? '200ms', ...(options.clock ? { clock: options.clock } : {}) });
    const events = ctx.textFileStream<DemoEvent>(dir, { format: 'ndjson', name: 'events', maxRecordsPerBatch: 2_500, badRecords: 'deadLetter' });

    const totals = new Map<string, number>();
    events.pipe(
      mapToPair((e) => [e.type, 1]),
      reduceByKey((a, b) => a + b),
      foreachBatch((counts) => {
        for (const [type, n] of counts) totals.set(type, (totals.get(type) ?? 0) + n);
      }),
    );
    events.deadLetters.pipe(
      foreachBatch((bad) => {
        for (const record of bad) log(`  dead letter at ${record.location ?? '?'}: ${record.reason}`);
      }),
    );

    let read = 0;
    let badRecords = 0;
    let batches = 0;
    ctx.addListener((event) => {
      if (event.type !== 'batchCompleted') return;
      const p = event.progress;
      batches++;
      read += p.numInputRecords;
      badRecords += p.numBadRecords;
      log(`batch ${p.batchId}: ${p.numInputRecords} records, ${p.numBadRecords} bad, ${p.processingTimeMs} ms (scheduling delay ${p.schedulingDelayMs} ms)`);
      if (read + badRecords > generated.length) void ctx.stop({ graceful: true });
    });

    await ctx.start();
    await ctx.awaitTermination();
    return { totals: [...totals].sort(([a], [b]) => a.localeCompare(b)), generated, badRecords, batches };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
