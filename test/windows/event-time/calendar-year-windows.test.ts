import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { keyBy, type DStream } from 'sluice';
import { agg, calendar, eventTimeWindow, tumbling, withWatermark, type WindowResult } from 'sluice/windows';
import { runBatches } from 'sluice/testing';

interface Ev {
  readonly key: string;
  readonly t: number;
}
const ZONE = 'Europe/Berlin';
const at = (iso: string): number => DateTime.fromISO(iso, { zone: ZONE }).toMillis();
type Row = [string, string, string, unknown];
const rows = (out: WindowResult<string, unknown>[][]): Row[][] =>
  out.map((batch) => batch.map((r) => [r.key, DateTime.fromMillis(r.window.start, { zone: ZONE }).toISO() ?? '', DateTime.fromMillis(r.window.end, { zone: ZONE }).toISO() ?? '', r.value]));

const counts = (unit: 'quarter' | 'year') => (s: DStream<Ev>) => s.pipe(withWatermark((e: Ev) => e.t, 0), keyBy((e: Ev) => e.key), eventTimeWindow(calendar({ unit, zone: ZONE }), agg.count()));

describe('eventTimeWindow with calendar years and quarters', () => {
  it('counts per local year, across a leap day and both daylight-saving changes, and closes a year when the watermark passes its local end', async () => {
    const input = [
      [{ key: 'a', t: at('2024-01-01T00:00') }, { key: 'a', t: at('2024-02-29T12:00') }, { key: 'a', t: at('2024-03-31T02:30') }],
      [{ key: 'a', t: at('2024-10-27T02:30') }, { key: 'a', t: at('2024-12-31T23:59:59.999') }],
      // The watermark of this batch (its largest event time) is at the local new year: 2024 closes.
      [{ key: 'b', t: at('2025-01-01T00:00') }],
      [],
    ];
    const out = await runBatches(input, counts('year'), { numPartitions: 1 });
    expect(rows(out)).toEqual([[], [], [], [['a', '2024-01-01T00:00:00.000+01:00', '2025-01-01T00:00:00.000+01:00', 5]]]);
  });

  it('counts per local quarter: a record at the first instant of April is in the second quarter', async () => {
    const input = [[{ key: 'a', t: at('2024-03-31T23:59') }, { key: 'a', t: at('2024-04-01T00:00') }, { key: 'a', t: at('2024-06-30T23:00') }], [{ key: 'z', t: at('2024-07-01T00:00') }], []];
    const out = await runBatches(input, counts('quarter'), { numPartitions: 1 });
    expect(rows(out)).toEqual([
      [],
      [['a', '2024-01-01T00:00:00.000+01:00', '2024-04-01T00:00:00.000+02:00', 1]],
      [['a', '2024-04-01T00:00:00.000+02:00', '2024-07-01T00:00:00.000+02:00', 2]],
    ]);
  });

  it('a tumbling window of a month or a year is refused, pointing to calendar windows', () => {
    expect(() => tumbling('P1M')).toThrow(/tumbling window size: 'P1M' has months, which have no fixed length.*calendar\(\{ unit: 'month', zone \}\)/);
    expect(() => tumbling('P1Y')).toThrow(RangeError);
  });
});
