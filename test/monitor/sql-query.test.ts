import { afterEach, describe, expect, it } from 'vitest';
import { serveMonitor, type MonitorServer } from 'sluice/monitor';
import { fraudJob, type FraudJob } from './fraud-job.js';

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function started(monitorOptions: Parameters<typeof serveMonitor>[1] = {}): Promise<FraudJob & { monitor: MonitorServer }> {
  const job = fraudJob();
  const monitor = await serveMonitor(job.ctx, monitorOptions);
  cleanup.push(() => monitor.close(), () => job.ctx.stop().catch(() => undefined));
  await job.ctx.start();
  job.logins.push(['u1', 'u2', 'u1']);
  job.payments.push('{"card":"a","amount":10,"t":95000}', '{"card":"b","amount":2.5,"t":95000}');
  await job.clock.advance(1000);
  return { ...job, monitor };
}

describe('the monitor: GET /api/query', () => {
  it("answers a read-only SQL query over the job's committed state", async () => {
    const { monitor } = await started();
    const query = (sql: string): Promise<Response> => fetch(`${monitor.url}api/query?sql=${encodeURIComponent(sql)}`);
    const res = await query('SELECT l.key AS user, l.value AS logins FROM "loginCounts" l ORDER BY user');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      batchId: 0,
      columns: [
        { name: 'user', type: 'VARCHAR' },
        { name: 'logins', type: 'DOUBLE' },
      ],
      rows: [
        { user: 'u1', logins: 2 },
        { user: 'u2', logins: 1 },
      ],
    });
    expect(await (await query('SELECT sum(value) AS total FROM "cardStats"')).json()).toMatchObject({ rows: [{ total: 12.5 }] });
    for (const [sql, status, error] of [
      ['DROP TABLE "cardStats"', 400, /read-only/],
      ['SELECT 1; SELECT 2', 400, /exactly one SELECT/],
      ["SELECT * FROM read_text('/etc/hostname')", 400, /disabled|external/i],
      ['SELECT nope FROM "cardStats"', 400, /does not bind/],
    ] as const) {
      const answer = await query(sql);
      expect(answer.status).toBe(status);
      expect(((await answer.json()) as { error: string }).error).toMatch(error);
    }
    expect((await fetch(`${monitor.url}api/query`)).status).toBe(400);
    expect((await fetch(`${monitor.url}api/query?sql=${'x'.repeat(10_001)}`)).status).toBe(400);
    expect((await fetch(`${monitor.url}api/query?sql=SELECT%201`, { method: 'POST' })).status).toBe(405);
  });

  it("answers with an event-time window's last results, named by the window's id, beside its state", async () => {
    const { monitor, payments, clock } = await started();
    const query = async (sql: string): Promise<unknown> => {
      const res = await fetch(`${monitor.url}api/query?sql=${encodeURIComponent(sql)}`);
      expect(res.status).toBe(200);
      return res.json();
    };
    // The watermark (1 s behind the latest payment) passes 96 s after batch 1: batch 2 closes [95 s, 96 s).
    expect(await query('SELECT count(*) AS n FROM "perSecond"')).toMatchObject({ batchId: 0, rows: [{ n: 0 }] });
    payments.push('{"card":"a","amount":1,"t":98000}');
    await clock.advance(2000);
    const answer = (await query('SELECT key, window_start, window_end, value, batch_time FROM "perSecond" ORDER BY key')) as { batchId: number; rows: unknown[] };
    expect(answer.batchId).toBe(2);
    expect(answer.rows).toEqual([
      { key: 'a', window_start: new Date(95_000).toISOString(), window_end: new Date(96_000).toISOString(), value: 1, batch_time: new Date(103_000).toISOString() },
      { key: 'b', window_start: new Date(95_000).toISOString(), window_end: new Date(96_000).toISOString(), value: 1, batch_time: new Date(103_000).toISOString() },
    ]);
  });

  it("asks for the monitor's token like every other endpoint", async () => {
    const { monitor } = await started({ token: 'query-token' });
    const url = `${monitor.url}api/query?sql=${encodeURIComponent('SELECT count(*) AS n FROM "loginCounts"')}`;
    expect((await fetch(url)).status).toBe(401);
    const res = await fetch(url, { headers: { authorization: 'Bearer query-token' } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ rows: [{ n: 2 }] });
  });
});
