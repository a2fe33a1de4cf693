import { describe, expect, it } from 'vitest';
import { expectedSessions } from '../../examples/sessionization/reference.js';
import { GAP_MS, runSessionization } from '../../examples/sessionization/job.js';

const byKey = <T extends { user: string }>(a: T, b: T): number => JSON.stringify(a).localeCompare(JSON.stringify(b));

describe('the sessionization example', () => {
  it('writes every session and routes exactly the late clicks to their own output', async () => {
    const lines: string[] = [];
    const result = await runSessionization({ users: 25, visitsPerUser: 5, lateClicks: 8, files: 4, batchInterval: '20ms', maxRecordsPerBatch: 120, log: (l) => lines.push(l) });
    const expected = expectedSessions(result.input, GAP_MS);
    expect(expected.late.length).toBeGreaterThan(0);
    expect([...result.sessions].sort(byKey)).toEqual([...expected.sessions].sort(byKey));
    expect([...result.late].sort(byKey)).toEqual([...expected.late].sort(byKey));
    expect(result.badRecords).toBe(1);
    expect(lines.filter((l) => l.startsWith('batch '))).toHaveLength(result.batches);
  }, 60_000);
});
