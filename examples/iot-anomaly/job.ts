import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StreamingContext, foreachBatch, map } from 'sluice';
import { fileSink, getOrCreate } from 'sluice/checkpoint';
import { streamingKMeans } from 'sluice/ml';
import { features, generateReadings, MODES, type SensorReading } from './generate.js';

/** A scored reading. */
export interface Score {
  readonly index: number;
  readonly device: string;
  readonly time: number;
  /** The nearest operating mode's cluster. */
  readonly cluster: number;
  /** The distance to that cluster's center, by the model as of the previous batch: the anomaly score. */
  readonly score: number;
  /** Whether the score is above the threshold. */
  readonly flagged: boolean;
}

/** The model's settings (the reference in ./reference.ts follows them). */
export const SETTINGS = {
  /** The nominal modes, as feature vectors: the model starts from them (weight 0: the first batch's points replace them). */
  centers: MODES.map((m) => features(m)),
  /** What the model learnt weighs half as much 1000 readings later. */
  halfLife: 1000,
  /** A score above this flags the reading: about 8 standard deviations of a healthy reading's noise. */
  threshold: 2.5,
} as const;

/** Options of {@link runIotAnomaly}. */
export interface IotAnomalyOptions {
  /** Readings per machine (default 400). */
  readonly perDevice?: number;
  /** Readings per batch (default 200). */
  readonly batchSize?: number;
  readonly batchInterval?: string | number;
  /** Where the checkpoint and the scores go (default: a temporary directory, removed afterwards); run again on it to resume. */
  readonly outDir?: string;
  /** Stop gracefully on SIGTERM or SIGINT, to be resumed on `outDir` (default false). */
  readonly stopOnSignals?: boolean;
  /** Where progress lines go (default: nowhere). */
  readonly log?: (line: string) => void;
}

/** What the job produced. */
export interface IotAnomalyResult {
  readonly readings: readonly SensorReading[];
  readonly injected: ReadonlySet<number>;
  /** Every score in the sink, this run's and those of the runs it resumed, in batch order. */
  readonly scores: readonly Score[];
  readonly batches: number;
  readonly finished: boolean;
}

/**
 * IoT anomaly scores: machines report temperature and vibration; a streaming k-means (three
 * clusters, one per operating mode, starting from the nominal modes, half-life 1000 readings)
 * learns where healthy readings gather, and each reading is scored by its distance to the
 * nearest center of the model *as of the previous batch*, so a reading never vouches for itself.
 * A score above the threshold flags the reading. The scores go to an exactly-once file sink; the
 * readings come from a replayable rate source cut into batches of `batchSize` (a bounded run), on
 * a checkpoint: stopped or killed, the job started again on the same `outDir` carries on and ends
 * with the same scores, the model restored from the checkpoint.
 */
export async function runIotAnomaly(options: IotAnomalyOptions = {}): Promise<IotAnomalyResult> {
  const log = options.log ?? (() => undefined);
  const { readings, injected } = generateReadings(options.perDevice === undefined ? {} : { perDevice: options.perDevice });
  const outDir = options.outDir ?? (await mkdtemp(join(tmpdir(), 'sluice-anomaly-')));
  try {
    const ctx = await getOrCreate(join(outDir, 'checkpoint'), (checkpoint) => {
      const ctx = new StreamingContext({ batchInterval: options.batchInterval ?? '100ms', checkpoint });
      const sensors = ctx.rateStream<SensorReading>({
        rowsPerSecond: 1000,
        totalRows: readings.length,
        maxRecordsPerBatch: options.batchSize ?? 200,
        generate: (i) => readings[i] ?? missing(i),
        name: 'sensors',
      });
      const model = streamingKMeans({ k: MODES.length, dimensions: 2, initialCenters: SETTINGS.centers, halfLife: { value: SETTINGS.halfLife, unit: 'points' }, name: 'modes' });
      sensors.pipe(map(features), model.trainOn());
      const scores = sensors.pipe(
        model.predictOn<SensorReading>({ features }),
        map(({ point: r, cluster, distance }): Score => ({ index: r.index, device: r.device, time: r.time, cluster, score: distance, flagged: distance > SETTINGS.threshold })),
      );
      scores.pipe(fileSink<Score>(join(outDir, 'scores'), { name: 'scores-sink' }));
      scores.pipe(
        foreachBatch((batch) => {
          for (const s of batch) if (s.flagged) log(`  ANOMALY ${s.device.padEnd(8)} ${new Date(s.time).toISOString()}: score ${s.score.toFixed(2)}`);
        }),
      );
      return ctx;
    });
    ctx.addListener((event) => {
      if (event.type === 'batchCompleted') log(`batch ${event.progress.batchId}: ${event.progress.numInputRecords} readings`);
    });
    if (options.stopOnSignals === true) {
      ctx.stopOnSignals();
      log('started: SIGTERM or SIGINT stops the job gracefully; run it again on the same outDir to resume');
    }
    const { batches, completed: finished } = await ctx.runToCompletion();
    return { readings, injected, scores: await readScores(outDir), batches, finished };
  } finally {
    if (options.outDir === undefined) await rm(outDir, { recursive: true, force: true });
  }
}

/** Every score a run on `outDir` wrote, in batch order. */
export async function readScores(outDir: string): Promise<Score[]> {
  const dir = join(outDir, 'scores');
  const names = (await readdir(dir).catch(() => [])).filter((n) => n.endsWith('.ndjson')).sort();
  const out: Score[] = [];
  for (const name of names) {
    for (const line of (await readFile(join(dir, name), 'utf8')).split('\n')) if (line !== '') out.push(JSON.parse(line) as Score);
  }
  return out;
}

function missing(index: number): never {
  throw new RangeError(`no generated reading ${index}`);
}
