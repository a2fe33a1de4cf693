import { describe, expect, it } from 'vitest';
import { runIotRollups } from '../../examples/iot-rollups/job.js';
import { expectedRollups } from '../../examples/iot-rollups/reference.js';

describe('the IoT rollups example', () => {
  it('rolls every reading up into its device-local calendar day', async () => {
    const result = await runIotRollups({ days: 3, everyMinutes: 15, batchInterval: '20ms', maxRecordsPerBatch: 200 });
    const expected = expectedRollups(result.readings);
    const actual = [...result.rollups].sort((a, b) => a.device.localeCompare(b.device) || a.day.localeCompare(b.day));
    expect(actual.map(({ device, day, readings, max }) => ({ device, day, readings, max }))).toEqual(expected.map(({ device, day, readings, max }) => ({ device, day, readings, max })));
    actual.forEach((r, i) => {
      expect(r.mean).toBeCloseTo(expected[i]!.mean, 9);
    });
    // Berlin's 29 March 2026 is 23 hours long (summer time starts).
    expect(actual.find((r) => r.device === 'berlin-roof' && r.day === '2026-03-29')?.hours).toBe(23);
  }, 30_000);
});
