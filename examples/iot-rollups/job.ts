import { StreamingContext, filter, foreachBatch, keyBy, map, union, type Clock, type DStream } from 'sluice';
import { agg, calendar, eventTimeWindow, withWatermark, type Aggregator } from 'sluice/windows';
import { DEVICES, FLUSH_DEVICE, generateReadings, type Reading } from './generate.js';

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
  readonly clock?: Clock;
  /** Where progress and rollup lines go (default: nowhere). */
  readonly log?: (line: string) => void;
}

/** What the job produced. */
export interface IotResult {
  readonly readings: readonly Reading[];
  readonly rollups: readonly Rollup[];
  readonly batches: number;
}

/**
 * IoT rollups: per device, per calendar day *in the device's time zone*, the number of readings,
 * their mean and their maximum. A window operator has one assigner, so the devices are grouped by
 * zone, each zone gets its own `eventTimeWindow(calendar({ unit: 'day', zone }), ...)`, and the
 * zones' rollups are unioned. A last, far-future flush reading closes every day; the job stops one
 * batch after reading it.
 */
export async function runIotRollups(options: IotOptions = {}): Promise<IotResult> {
  const log = options.log ?? (() => undefined);
  const readings = generateReadings({ ...(options.days === undefined ? {} : { days: options.days }), ...(options.everyMinutes === undefined ? {} : { everyMinutes: options.everyMinutes }) });
  const last = readings.reduce((m, r) => Math.max(m, r.time), 0);
  const input: Reading[] = [...readings, { device: FLUSH_DEVICE, time: last + 3 * 86_400_000, celsius: 0 }];

  const ctx = new StreamingContext({ batchInterval: options.batchInterval ?? '100ms', ...(options.clock ? { clock: options.clock } : {}) });
  const watermarked = ctx
    .fromIterable(input, { name: 'readings', maxRecordsPerBatch: options.maxRecordsPerBatch ?? 500 })
    .pipe(withWatermark((r: Reading) => r.time, '10m'), filter((r) => r.device !== FLUSH_DEVICE));

  const zones = [...new Set(DEVICES.map((d) => d.zone))].sort();
  const perZone: DStream<Rollup>[] = zones.map((zone) => {
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
  const [first, ...rest] = perZone;
  if (first === undefined) throw new Error('no zones');
  const rollups: Rollup[] = [];
  first.pipe(
    union(...rest),
    foreachBatch((batch) => {
      for (const r of batch) {
        rollups.push(r);
        log(`  ${r.device.padEnd(14)} ${r.day} (${r.zone}, ${r.hours} h): ${r.readings} readings, mean ${r.mean?.toFixed(2) ?? '-'} °C, max ${r.max ?? '-'} °C`);
      }
    }),
  );

  let read = 0;
  let batches = 0;
  let lastBatch: number | undefined;
  ctx.addListener((event) => {
    if (event.type !== 'batchCompleted') return;
    const p = event.progress;
    batches++;
    read += p.numInputRecords;
    log(`batch ${p.batchId}: ${p.numInputRecords} readings, watermark ${p.watermark === undefined ? 'none' : new Date(p.watermark).toISOString()}, ${p.lateRecordsDropped} late dropped`);
    if (lastBatch === undefined && read >= input.length) lastBatch = p.batchId + 1;
    if (lastBatch !== undefined && p.batchId >= lastBatch) void ctx.stop({ graceful: true });
  });
  await ctx.start();
  await ctx.awaitTermination();
  return { readings, rollups, batches };
}
