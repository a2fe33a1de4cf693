import { DEVICES, type Reading } from './generate.js';

/** An expected rollup: the readings of one device on one local date. */
export interface ExpectedRollup {
  readonly device: string;
  readonly day: string;
  readonly readings: number;
  readonly mean: number;
  readonly max: number;
}

/**
 * The expected rollups, directly (no Sluice): each reading's local date in its device's zone
 * (through `Intl`), then count, mean and max per device and date.
 */
export function expectedRollups(readings: readonly Reading[]): ExpectedRollup[] {
  const zoneOf = new Map(DEVICES.map((d) => [d.id, d.zone]));
  const groups = new Map<string, { device: string; day: string; values: number[] }>();
  for (const r of readings) {
    const zone = zoneOf.get(r.device);
    if (zone === undefined) continue;
    const day = new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(r.time);
    const id = `${r.device} ${day}`;
    const group = groups.get(id) ?? { device: r.device, day, values: [] };
    group.values.push(r.celsius);
    groups.set(id, group);
  }
  return [...groups.values()]
    .map(({ device, day, values }) => ({ device, day, readings: values.length, mean: values.reduce((a, b) => a + b, 0) / values.length, max: Math.max(...values) }))
    .sort((a, b) => a.device.localeCompare(b.device) || a.day.localeCompare(b.day));
}
