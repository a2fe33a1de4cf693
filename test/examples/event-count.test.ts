import { describe, expect, it } from 'vitest';
import { runEventCount } from '../../examples/event-count/job.js';

describe('the event-count demo', () => {
  it('counts every generated event by type exactly once and sends the malformed line to the dead letters', async () => {
    const lines: string[] = [];
    const result = await runEventCount({ files: 3, eventsPerFile: 700, batchInterval: '20ms', log: (l) => lines.push(l) });
    const expected = new Map<string, number>();
    for (const e of result.generated) expected.set(e.type, (expected.get(e.type) ?? 0) + 1);
    expect(result.generated).toHaveLength(2100);
    expect(new Map(result.totals)).toEqual(expected);
    expect(result.badRecords).toBe(1);
    expect(lines.filter((l) => l.startsWith('batch '))).toHaveLength(result.batches);
    expect(lines.some((l) => /dead letter at .*events-001\.ndjson:11/.test(l))).toBe(true);
  });
});
