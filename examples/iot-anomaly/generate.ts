/** One sensor reading of a machine. */
export interface SensorReading {
  /** The reading's position in the stream (its id). */
  readonly index: number;
  readonly device: string;
  /** Event time, ms since the epoch. */
  readonly time: number;
  readonly celsius: number;
  /** Vibration velocity, mm/s. */
  readonly vibration: number;
}

/** An operating mode: where a healthy machine's readings gather. */
export interface Mode {
  readonly name: string;
  readonly celsius: number;
  readonly vibration: number;
}

/** The nominal operating modes of the machines (from their spec sheet). */
export const MODES: readonly Mode[] = [
  { name: 'idle', celsius: 20, vibration: 0.5 },
  { name: 'running', celsius: 45, vibration: 4 },
  { name: 'heavy', celsius: 70, vibration: 9 },
];

/** The machines. */
export const DEVICES = ['press-1', 'press-2', 'lathe-1', 'lathe-2', 'mill-1', 'mill-2'] as const;

/**
 * The feature vector the model sees: temperature in units of 5 °C and vibration in mm/s, so that
 * both spread alike (a healthy reading lies about 0.3 from its mode in each).
 */
export function features(r: { readonly celsius: number; readonly vibration: number }): [number, number] {
  return [r.celsius / 5, r.vibration];
}

/** The generated stream and the indexes of the anomalies injected into it. */
export interface GeneratedReadings {
  readonly readings: readonly SensorReading[];
  readonly injected: ReadonlySet<number>;
}

/**
 * Deterministic readings (a seeded LCG): every machine reports once a minute, in device order;
 * each stays in one operating mode for a while (20 to 80 readings), then moves to another, with
 * Gaussian noise (1.5 °C, 0.3 mm/s). About 1 reading in 100 is an injected anomaly: an overheat
 * (90 to 100 °C) or a shake (15 to 20 mm/s), far from every mode.
 */
export function generateReadings(options: { readonly perDevice?: number; readonly seed?: number } = {}): GeneratedReadings {
  const { perDevice = 400 } = options;
  let state = (options.seed ?? 7) >>> 0;
  const next = (): number => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  const gaussian = (): number => Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
  const start = Date.UTC(2026, 11, 1);
  const mode = DEVICES.map((_, d) => d % MODES.length);
  const left = DEVICES.map(() => 20 + Math.floor(next() * 60));
  const readings: SensorReading[] = [];
  const injected = new Set<number>();
  for (let minute = 0; minute < perDevice; minute++) {
    DEVICES.forEach((device, d) => {
      if ((left[d] = (left[d] as number) - 1) <= 0) {
        mode[d] = ((mode[d] as number) + 1 + Math.floor(next() * 2)) % MODES.length;
        left[d] = 20 + Math.floor(next() * 60);
      }
      const m = MODES[mode[d] as number] as Mode;
      let celsius = m.celsius + 1.5 * gaussian();
      let vibration = m.vibration + 0.3 * gaussian();
      const index = readings.length;
      const roll = next();
      if (roll < 0.005) celsius = 90 + 10 * next();
      else if (roll < 0.01) vibration = 15 + 5 * next();
      if (roll < 0.01) injected.add(index);
      readings.push({ index, device, time: start + minute * 60_000, celsius: round(celsius), vibration: round(vibration) });
    });
  }
  return { readings, injected };
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}
