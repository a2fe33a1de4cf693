import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { foreachBatch, StreamingContext } from 'sluice';
import type { Offset } from 'sluice/extend';
import { fileSink, getOrCreate } from 'sluice/checkpoint';
import { generateSettlements, generateTransactions, type GenerateOptions, type Settlement, type Transaction } from './generate.js';
import { fraudAlerts, type Alert } from './rules.js';

/** Options of {@link runFraudDetection}. */
export interface FraudDetectionOptions extends GenerateOptions {
  /** The checkpoint directory (default: a temporary one, removed at the end). Run again on it to recover. */
  readonly checkpointDir?: string;
  /** Where the alert files go, in `alerts/` (default: a temporary directory, removed at the end). */
  readonly outDir?: string;
  readonly batchInterval?: string | number;
  readonly maxRecordsPerBatch?: number;
  /** Where progress lines go (default: nowhere). */
  readonly log?: (line: string) => void;
}

/** What the job raised. */
export interface FraudDetectionResult {
  /** Every alert in the sink, in batch order. */
  readonly alerts: readonly Alert[];
  /** The generated transactions, in arrival order. */
  readonly transactions: readonly Transaction[];
  /** The generated settlements, in arrival order. */
  readonly settlements: readonly Settlement[];
  /** Batch files in the sink (one per batch, empty ones included). */
  readonly batchFiles: number;
  /** Duplicate deliveries dropped, over every batch of this run. */
  readonly duplicatesDropped: number;
}

/** The alerts a run wrote under `outDir`, in batch order (file names sort in batch order). */
export async function readAlerts(outDir: string): Promise<{ alerts: Alert[]; batchFiles: number }> {
  const dir = join(outDir, 'alerts');
  const files = (await readdir(dir).catch(() => [])).filter((name) => /^batch-[0-9a-f]+\.ndjson$/.test(name)).sort();
  const alerts: Alert[] = [];
  for (const name of files) {
    for (const line of (await readFile(join(dir, name), 'utf8')).split('\n')) if (line !== '') alerts.push(JSON.parse(line) as Alert);
  }
  return { alerts, batchFiles: files.length };
}

/**
 * The fraud-detection job: replayable rate sources over the generated transactions and their
 * settlements (startTime 0, so they all exist at once and batch k always holds the same rows), the
 * rules of rules.ts,
 * and their alerts written exactly once through a file sink (one file per batch, rewritten
 * identically when a batch is replayed). State and progress are checkpointed to LevelDB in
 * `checkpointDir`: killed and started again on it, the job carries on where it was and the sink
 * ends the same. It runs bounded (`runToCompletion`): it stops when every transaction is read,
 * after a final watermark has closed the last windows.
 */
export async function runFraudDetection(options: FraudDetectionOptions = {}): Promise<FraudDetectionResult> {
  const log = options.log ?? (() => undefined);
  const transactions = generateTransactions(options);
  const settlements = generateSettlements(transactions, options);
  const temporary: string[] = [];
  const dirOf = async (given: string | undefined, prefix: string): Promise<string> => {
    if (given !== undefined) return given;
    const dir = await mkdtemp(join(tmpdir(), prefix));
    temporary.push(dir);
    return dir;
  };
  try {
    const checkpointDir = await dirOf(options.checkpointDir, 'sluice-fraud-ckpt-');
    const outDir = await dirOf(options.outDir, 'sluice-fraud-out-');
    await mkdir(join(outDir, 'alerts'), { recursive: true });
    const total = transactions.length;
    const alertsPerBatch = new Map<number, number>();

    const ctx = await getOrCreate(checkpointDir, (checkpoint) => {
      const c = new StreamingContext({ batchInterval: options.batchInterval ?? '50ms', checkpoint });
      const input = c.rateStream<Transaction>({
        rowsPerSecond: 1_000_000,
        startTime: 0,
        // Recorded history: every transaction exists from the start; maxRecordsPerBatch paces it.
        backfill: true,
        totalRows: total,
        maxRecordsPerBatch: options.maxRecordsPerBatch ?? 100,
        generate: (i) => transactions[i] ?? missing(i),
        name: 'transactions',
      });
      const settled = c.rateStream<Settlement>({
        rowsPerSecond: 1_000_000,
        startTime: 0,
        backfill: true,
        totalRows: settlements.length,
        maxRecordsPerBatch: options.maxRecordsPerBatch ?? 100,
        generate: (i) => settlements[i] ?? missing(i),
        name: 'settlements',
      });
      const alerts = fraudAlerts(input, settled);
      alerts.pipe(fileSink<Alert>(join(outDir, 'alerts'), { name: 'alerts' }));
      alerts.pipe(
        foreachBatch((batch, { batchId }) => {
          alertsPerBatch.set(batchId, batch.length);
        }),
      );
      return c;
    });

    let duplicatesDropped = 0;
    ctx.addListener((event) => {
      if (event.type !== 'batchCompleted') return;
      const p = event.progress;
      const read = rowsRead(p.sources[0]?.endOffset);
      const watermark = p.watermark === undefined ? 'none' : new Date(p.watermark).toISOString();
      duplicatesDropped += p.numDuplicatesDropped;
      log(`batch ${p.batchId}: ${p.sources[0]?.inputRecords ?? 0} transactions (${read}/${total} read), ${p.sources[1]?.inputRecords ?? 0} settlements, watermark ${watermark}, ${p.numDuplicatesDropped} duplicates dropped, ${alertsPerBatch.get(p.batchId) ?? 0} alerts`);
      alertsPerBatch.delete(p.batchId);
    });
    await ctx.runToCompletion();

    const { alerts, batchFiles } = await readAlerts(outDir);
    return { alerts, transactions, settlements, batchFiles, duplicatesDropped };
  } finally {
    for (const dir of temporary) await rm(dir, { recursive: true, force: true });
  }
}

function missing(index: number): never {
  throw new RangeError(`no generated record ${index}`);
}

/** The rows a rate source has given by `offset` (`0`, or `{ rows, startTime }`). */
function rowsRead(offset: Offset | undefined): number {
  if (typeof offset !== 'object' || offset === null || Array.isArray(offset)) return 0;
  const { rows } = offset as { readonly [key: string]: Offset };
  return typeof rows === 'number' ? rows : 0;
}
