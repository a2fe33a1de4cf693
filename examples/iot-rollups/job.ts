import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StreamingContext, filter, foreachBatch, keyBy, map, union, type DStream } from 'sluice';
import { fileSink, getOrCreate } from 'sluice/checkpoint';
import { agg, calendar, eventTimeWindow, withWatermark, type Aggregator } from 'sluice/windows';
import { DEVICES, generateReadings, type Reading } from './generate.js';

/** One device's local calendar day. */
export interface Rollup {
  readonly device: string;
  readonly zone: string;
  /** The local date, `YYYY-MM-DD`. */
  readonly day: string;
  /** Length of the local day: 24, or 23/25 across a daylight-saving change. */
  readonly hours: number;
  readonly readings: number;
  readonly mean: number | null;
  readonly max: number | null;
}

/** Three aggregators side by side, as one: each value goes into all of them. */
function together<V, A1, R1, A2, R2, A3, R3>(
  a: Aggregator<V, A1, R1>,
  b: Aggregator<V, A2, R2>,
  c: Aggregator<V, A3, R3>,
): Aggregator<V, [A1, A2, A3], [R1, R2, R3]> {
  return {
    create: () => [a.create(), b.create(), c.create()],
    add: ([x, y, z], v) => [a.add(x, v), b.add(y, v), c.add(z, v)],
    merge: ([x1, y1, z1], [x2, y2, z2]) => [a.merge(x1, x2), b.merge(y1, y2), c.merge(z1, z2)],
    result: ([x, y, z]) => [a.result(x), b.result(y), c.result(z)],
  };
}

/** A time's local date in `zone`, `YYYY-MM-DD`. */
export function localDate(time: number, zone: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(time);
}

/** Options of {@link runIotRollups}. */
export interface IotOptions {
  readonly days?: number;
  readonly everyMinutes?: number;
  readonly batchInterval?: string | number;
  readonly maxRecordsPerBatch?: number;
  /**
   * Where the checkpoint (`checkpoint/`) and the rollups (`rollups/`) go (default: a temporary
   * directory, removed afterwards). Run again on the same directory to resume a stopped or killed run.
   */
  readonly outDir?: string;
  /** Stop gracefully on SIGTERM or SIGINT (`ctx.stopOnSignals()`), to be resumed on `outDir` (default false). */
  readonly stopOnSignals?: boolean;
  /** Where progress and rollup lines go (default: nowhere). */
  readonly log?: (line: string) => void;
}

/** What the job produced. */
export interface IotResult {
  readonly readings: readonly Reading[];
  /** Every rollup in the sink, this run's and those of the runs it resumed, in batch order. */
  readonly rollups: readonly Rollup[];
  /** Batches this run completed (replayed ones included). */
  readonly batches: number;
  /** Whether the job read every reading and closed every day (false when a signal stopped it first). */
  readonly finished: boolean;
}

/**
 * IoT rollups: per device, per calendar day *in the device's time zone*, the number of readings,
 * their mean and their maximum. A window operator has one assigner, so the devices are grouped by
 * zone, each zone gets its own `eventTimeWindow(calendar({ unit: 'day', zone }), ...)`, and the
 * zones' rollups are unioned into an exactly-once file sink. The readings are history: a bounded
 * run (`runToCompletion`) reads them through a replayable rate source with `totalRows` (reading i
 * is always the i-th generated one) on a checkpointed context, `maxRecordsPerBatch` a batch, then
 * its final watermark closes every day and it stops. Stopped or killed, the job started again on
 * the same `outDir` carries on where it was and ends with the same rollups.
 */
export async function runIotRollups(options: IotOptions = {}): Promise<IotResult> {
  const log = options.log ?? (() => undefined);
  const readings = generateReadings({ ...(options.days === undefined ? {} : { days: options.days }), ...(options.everyMinutes === undefined ? {} : { everyMinutes: options.everyMinutes }) });
  const outDir = options.outDir ?? (await mkdtemp(join(tmpdir(), 'sluice-iot-')));
  const rollupsDir = join(outDir, 'rollups');
  try {
    const ctx = await getOrCreate(join(outDir, 'checkpoint'), (checkpoint) => {
      const ctx = new StreamingContext({ batchInterval: options.batchInterval ?? '100ms', checkpoint });
      const watermarked = ctx
        .rateStream<Reading>({
          // A bounded run takes every row at once: the rate only times the (unused) timestamps.
          rowsPerSecond: 1000,
          totalRows: readings.length,
          maxRecordsPerBatch: options.maxRecordsPerBatch ?? 500,
          generate: (i) => readings[i] ?? missing(i),
          name: 'readings',
        })
        .pipe(withWatermark((r: Reading) => r.time, '10m'));
      const [first, ...rest] = rollupsByZone(watermarked);
      if (first === undefined) throw new Error('no zones');
      const rollups = first.pipe(union(...rest));
      rollups.pipe(fileSink<Rollup>(rollupsDir, { name: 'rollups-sink' }));
      rollups.pipe(
        foreachBatch((batch) => {
          for (const r of batch) log(`  ${r.device.padEnd(14)} ${r.day} (${r.zone}, ${r.hours} h): ${r.readings} readings, mean ${r.mean?.toFixed(2) ?? '-'} °C, max ${r.max ?? '-'} °C`);
        }),
      );
      return ctx;
    });

    ctx.addListener((event) => {
      if (event.type !== 'batchCompleted') return;
      const p = event.progress;
      log(`batch ${p.batchId}: ${p.numInputRecords} readings, watermark ${p.watermark === undefined ? 'none' : new Date(p.watermark).toISOString()}, ${p.lateRecordsDropped} late dropped`);
    });
    if (options.stopOnSignals === true) {
      ctx.stopOnSignals();
      log('started: SIGTERM or SIGINT stops the job gracefully; run it again on the same outDir to resume');
    }
    const { batches, completed: finished } = await ctx.runToCompletion();
    return { readings, rollups: await readRollups(outDir), batches, finished };
  } finally {
    if (options.outDir === undefined) await rm(outDir, { recursive: true, force: true });
  }
}

/** One window operator per zone, over the readings of that zone's devices. */
function rollupsByZone(watermarked: DStream<Reading>): DStream<Rollup>[] {
  const zones = [...new Set(DEVICES.map((d) => d.zone))].sort();
  return zones.map((zone) => {
    const devices = new Set(DEVICES.filter((d) => d.zone === zone).map((d) => d.id));
    return watermarked.pipe(
      filter((r) => devices.has(r.device)),
      keyBy((r) => r.device),
      eventTimeWindow(calendar({ unit: 'day', zone }), together(agg.count(), agg.mean((r: Reading) => r.celsius), agg.max((r: Reading) => r.celsius)), { name: `rollups-${zone}` }),
      map(({ key, window, value: [readingCount, avg, highest] }): Rollup => ({
        device: key,
        zone,
        day: localDate(window.start, zone),
        hours: (window.end - window.start) / 3_600_000,
        readings: readingCount,
        mean: avg,
        max: highest,
      })),
    );
  });
}

/** Every rollup a run on `outDir` wrote, in batch order (file names sort in batch order). */
export async function readRollups(outDir: string): Promise<Rollup[]> {
  const dir = join(outDir, 'rollups');
  const names = (await readdir(dir).catch(() => [])).filter((n) => n.endsWith('.ndjson')).sort();
  const out: Rollup[] = [];
  for (const name of names) {
    for (const line of (await readFile(join(dir, name), 'utf8')).split('\n')) if (line !== '') out.push(JSON.parse(line) as Rollup);
  }
  return out;
}

function missing(index: number): never {
  throw new RangeError(`no generated reading ${index}`);
}
