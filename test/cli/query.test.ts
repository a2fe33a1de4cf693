import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ManualClock } from 'sluice';
import { serveMonitor } from 'sluice/monitor';
import { useTempDir } from '../support/temp-dir.js';
import { cli, countingContext, makeCheckpoint, sluice } from './cli-harness.js';

const dir = useTempDir();
const checkpoint = (): string => join(dir(), 'ckpt');

describe('sluice query', () => {
  it("prints a read-only SQL query over a stopped job's checkpoint as a table (the built bin), or JSON", async () => {
    await makeCheckpoint(checkpoint(), 3); // records 0..11
    const table = await sluice(['query', checkpoint(), 'SELECT key, value FROM counts ORDER BY key']);
    expect(table).toMatchObject({ code: 0, stderr: '' });
    expect(table.out).toBe(['key    | value', '-------+------', 'user-0 | 4', 'user-1 | 4', 'user-2 | 4', '3 rows, as of batch 2'].join('\n'));
    // Array keys are JSON text; the mapWithState is a table too.
    const json = await cli(['query', checkpoint(), 'SELECT c.key, c.value AS last, n.value AS n FROM cards c, counts n WHERE n.key = \'user-0\' ORDER BY c.key', '--json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.out)).toEqual({
      batchId: 2,
      columns: [
        { name: 'key', type: 'VARCHAR' },
        { name: 'last', type: 'DOUBLE' },
        { name: 'n', type: 'DOUBLE' },
      ],
      rows: [
        { key: '["card",0]', last: 10, n: 4 },
        { key: '["card",1]', last: 11, n: 4 },
      ],
    });
  });

  it('exits 2 for a query that is not one SELECT, and 1 for one that does not bind', async () => {
    await makeCheckpoint(checkpoint(), 1);
    expect(await cli(['query', checkpoint(), 'DELETE FROM counts'])).toMatchObject({ code: 2, err: expect.stringMatching(/^sluice query: the query is read-only: give one SELECT/) as unknown });
    expect(await cli(['query', checkpoint(), 'SELECT nope FROM counts'])).toMatchObject({ code: 1, err: expect.stringMatching(/^sluice query: SQL_FAILED: The query does not bind against the job's tables \("counts", "cards"; a window's last results are tables only while its job runs/) as unknown });
    expect(await cli(['query', checkpoint()])).toMatchObject({ code: 2, err: expect.stringMatching(/missing required argument 'sql'/) as unknown });
  });

  it("queries a running job through its monitor's /api/query", async () => {
    const clock = new ManualClock();
    const ctx = countingContext(checkpoint(), clock);
    const monitor = await serveMonitor(ctx, { token: 'cli-token' });
    await ctx.start();
    await clock.advance(2000);
    try {
      const result = await cli(['query', checkpoint(), 'SELECT sum(value) AS n FROM counts'], { SLUICE_MONITOR_TOKEN: 'cli-token' });
      expect(result).toEqual({ code: 0, out: 'n\n-\n8\n1 row, as of batch 1', err: '' });
    } finally {
      await ctx.stop();
      await monitor.close();
    }
  });
});
