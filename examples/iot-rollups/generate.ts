/** One sensor reading. */
export interface Reading {
  readonly device: string;
  /** Event time, ms since the epoch. */
  readonly time: number;
  readonly celsius: number;
}

/** A device and the IANA time zone its site is in. */
export interface Device {
  readonly id: string;
  readonly zone: string;
}

/** The fleet: sites in four zones, two of which have daylight-saving changes during the generated days. */
export const DEVICES: readonly Device[] = [
  { id: 'berlin-roof', zone: 'Europe/Berlin' },
  { id: 'berlin-cellar', zone: 'Europe/Berlin' },
  { id: 'nyc-lobby', zone: 'America/New_York' },
  { id: 'sydney-dock', zone: 'Australia/Sydney' },
  { id: 'pune-lab', zone: 'Asia/Kolkata' },
  { id: 'pune-yard', zone: 'Asia/Kolkata' },
];

/** Readings arrive up to this long after they were taken (less than the job's watermark delay). */
export const MAX_DISORDER_MS = 3 * 60_000;

/**
 * Deterministic readings (a seeded LCG): each device reports about every 10 minutes from
 * 2026-03-27 to 2026-03-31 UTC (across Europe's switch to summer time on 29 March) with a daily
 * temperature swing, in arrival order (up to 3 minutes out of order).
 */
export function generateReadings(options: { days?: number; everyMinutes?: number; seed?: number } = {}): Reading[] {
  const { days = 4, everyMinutes = 10 } = options;
  let state = (options.seed ?? 11) >>> 0;
  const next = (): number => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  const start = Date.UTC(2026, 2, 27);
  const end = start + days * 86_400_000;
  const arriving: { reading: Reading; arrival: number }[] = [];
  DEVICES.forEach((device, d) => {
    for (let t = start + Math.floor(next() * 60_000); t < end; t += everyMinutes * 60_000 + Math.floor(next() * 60_000)) {
      const base = 12 + 4 * d + 6 * Math.sin((2 * Math.PI * (t - start)) / 86_400_000 + d);
      const celsius = Math.round((base + (next() - 0.5) * 3) * 10) / 10;
      arriving.push({ reading: { device: device.id, time: t, celsius }, arrival: t + Math.floor(next() * MAX_DISORDER_MS) });
    }
  });
  arriving.sort((a, b) => a.arrival - b.arrival || a.reading.device.localeCompare(b.reading.device));
  return arriving.map((a) => a.reading);
}
