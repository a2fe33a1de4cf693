import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { foreachBatch, SluiceError } from 'sluice';
import type { Offset, Source, SourceRead } from 'sluice/extend';
import { levelCheckpoint, MONITOR_DISCOVERY_FILE } from 'sluice/checkpoint';
import { serveMonitor, type MonitorServer, type MonitorSnapshot } from 'sluice/monitor';
import { fraudJob, type FraudJob } from './fraud-job.js';
import { EventClient, rawGet, rawRequest, statusOf, stuckClient } from './http-client.js';

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function started(options: Parameters<typeof fraudJob>[0] = {}, monitorOptions: Parameters<typeof serveMonitor>[1] = {}): Promise<FraudJob & { monitor: MonitorServer }> {
  const job = fraudJob(options);
  const monitor = await serveMonitor(job.ctx, monitorOptions);
  cleanup.push(() => monitor.close(), () => job.ctx.stop().catch(() => undefined));
  await job.ctx.start();
  return { ...job, monitor };
}

/** One record per batch, with offsets padded to `width` characters. */
class PaddedSource implements Source<number> {
  readonly kind = 'padded';
  readonly replayable = true;
  readonly #width: number;
  constructor(width: number) {
    this.#width = width;
  }
  initialOffset(): string {
    return this.#offset(0);
  }
  latestOffset(start: Offset): string {
    return this.#offset(Number(start) + 1);
  }
  read(start: Offset): SourceRead<number> {
    return { records: [Number(start)] };
  }
  #offset(n: number): string {
    return String(n).padStart(this.#width, '0');
  }
}

async function batch(job: FraudJob, ...payments: string[]): Promise<void> {
  job.payments.push(...payments);
  await job.clock.advance(1000);
}

describe('serveMonitor: safe by default', () => {
  it('binds to 127.0.0.1 and refuses a non-loopback host without a token', async () => {
    const { ctx } = fraudJob();
    await expect(serveMonitor(ctx, { host: '0.0.0.0' })).rejects.toThrow(/give a token .* allowUnauthenticated: true/);
    const monitor = await serveMonitor(ctx, { dashboard: false });
    cleanup.push(() => monitor.close());
    expect(monitor.url).toBe(`http://127.0.0.1:${monitor.port}/`);
  });

  it('serves a non-loopback host without a token only when told, and says so in the log', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'warn' }, new Writable({ write: (chunk: Buffer, _e, done) => { lines.push(chunk.toString()); done(); } }));
    const { ctx } = fraudJob({ logger });
    const monitor = await serveMonitor(ctx, { host: '0.0.0.0', allowUnauthenticated: true, dashboard: false });
    cleanup.push(() => monitor.close());
    expect(lines.map((l) => JSON.parse(l) as { level: number; msg: string })).toEqual([expect.objectContaining({ level: 40, msg: expect.stringMatching(/without a token/) as unknown })]);
    expect(monitor.url).toBe(`http://127.0.0.1:${monitor.port}/`);
    expect((await fetch(`${monitor.url}api/progress`)).status).toBe(200);
  });

  it('asks every request for the bearer token, compared whole, and lets the browser carry it in a cookie', async () => {
    const { monitor } = await started({}, { token: 's3cret-token', host: '0.0.0.0' });
    const url = `http://127.0.0.1:${monitor.port}`;
    expect((await fetch(`${url}/metrics`)).status).toBe(401);
    expect((await fetch(`${url}/metrics`, { headers: { authorization: 'Bearer s3cret' } })).status).toBe(401);
    expect((await fetch(`${url}/metrics`, { headers: { authorization: 'Bearer s3cret-token-and-more' } })).status).toBe(401);
    expect((await fetch(`${url}/metrics`, { headers: { authorization: 'Bearer s3cret-token' } })).status).toBe(200);
    const page = await fetch(`${url}/?token=s3cret-token`);
    expect(page.status).toBe(200);
    const cookie = page.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/HttpOnly/);
    expect((await fetch(`${url}/assets/dashboard.js`, { headers: { cookie: cookie.split(';')[0] ?? '' } })).status).toBe(200);
    expect((await fetch(`${url}/assets/dashboard.js`, { headers: { cookie: 'sluice_monitor_token=wrong' } })).status).toBe(401);
  });

  it('without a token, answers only requests that name this machine in their Host header (no DNS rebinding)', async () => {
    const { monitor } = await started();
    for (const host of ['127.0.0.1', `127.0.0.1:${monitor.port}`, `localhost:${monitor.port}`, 'LOCALHOST', `[::1]:${monitor.port}`]) {
      expect(statusOf(await rawGet(monitor.port, '/api/progress', { Host: host })), host).toBe(200);
    }
    for (const host of ['evil.example', `evil.example:${monitor.port}`, '127.0.0.1.evil.example', 'localhost.evil.example:80']) {
      expect(statusOf(await rawGet(monitor.port, '/api/progress', { Host: host })), host).toBe(403);
    }
  });

  it('is read-only: every method but GET and HEAD gets 405 on every path', async () => {
    const { monitor } = await started();
    for (const path of ['/', '/metrics', '/events', '/api/progress', '/api/state/cardStats', '/nowhere']) {
      for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
        const res = await fetch(`${monitor.url.slice(0, -1)}${path}`, { method, ...(method === 'OPTIONS' ? {} : { body: '{}' }) });
        expect(res.status, `${method} ${path}`).toBe(405);
        expect(res.headers.get('allow')).toBe('GET, HEAD');
      }
    }
    const head = await fetch(`${monitor.url}api/progress`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
  });

  it('answers 404 to unknown paths and to every path-traversal attempt, reading no file', async () => {
    const { monitor } = await started();
    const secret = await readFile(new URL('../../package.json', import.meta.url), 'utf8');
    for (const path of ['/nowhere', '/assets/', '/assets/../../package.json', '/assets/..%2f..%2fpackage.json', '/assets/%2e%2e/%2e%2e/package.json', '/..%5c..%5cpackage.json', '/assets/....//....//package.json', '/api/state/', '/api/state/a/b', '/assets/dashboard.js/', '//etc/passwd', '/%00']) {
      const answer = await rawGet(monitor.port, path);
      expect(statusOf(answer), path).toBe(404);
      expect(answer).not.toContain(secret.slice(0, 40));
    }
  });

  it('answers malformed requests with 400, and slow or stuck clients do not hold back the job or grow its memory', async () => {
    const { ctx, clock } = fraudJob();
    // Offsets of 16 KB make each batch's event about 33 KB, so the kernel's socket buffers fill in a few hundred batches.
    ctx.source(new PaddedSource(16 * 1024), { name: 'padded' }).pipe(foreachBatch(() => undefined));
    const monitor = await serveMonitor(ctx, { maxBufferedBytes: 64 * 1024, dashboard: false });
    cleanup.push(() => monitor.close(), () => ctx.stop());
    await ctx.start();
    expect(statusOf(await rawRequest(monitor.port, 'GARBAGE\r\n\r\n'))).toBe(400);
    expect(statusOf(await rawRequest(monitor.port, `GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`))).toBe(431);
    const stuck = await stuckClient(monitor.port);
    cleanup.push(() => Promise.resolve(stuck.destroy()));
    const reader = await EventClient.open(`${monitor.url}events`);
    cleanup.push(() => { reader.close(); return Promise.resolve(); });
    await reader.until((events) => events.length >= 1);
    expect(monitor.eventClients).toBe(2);
    let batches = 0;
    while (monitor.eventClients === 2 && batches < 3000) {
      await clock.advance(1000);
      batches++;
      // Batches on a ManualClock come back to back; a real job leaves the reader time between them.
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    expect(monitor.eventClients, `the stuck client was not dropped after ${batches} batches`).toBe(1);
    await reader.until((events) => events.filter((e) => e.event === 'batch').length === batches, 20_000);
    expect(ctx.state).toBe('active');
  });
});

describe('serveMonitor: what it serves', () => {
  it('streams a snapshot, then one event per batch completed and failed, and the stop; then it closes', async () => {
    const job = await started({ failOn: 'z' });
    const client = await EventClient.open(`${job.monitor.url}events`);
    await client.until((events) => events.length === 1);
    await batch(job, '{"card":"a","amount":1,"t":95000}');
    await batch(job, '{"card":"z","amount":1,"t":95000}');
    await expect(job.ctx.awaitTermination()).rejects.toThrow(SluiceError);
    await client.until(() => client.closed && client.events.some((e) => e.event === 'stopped')).catch(() => undefined);
    expect(client.events.map((e) => e.event)).toEqual(['snapshot', 'batch', 'failed', 'stopped']);
    expect(client.events[1]?.data).toMatchObject({ batchId: 0, numInputRecords: 1 });
    expect(client.events[2]?.data).toMatchObject({ code: 'USER_FUNCTION_FAILED', batchId: 1, operator: 'cardStats', message: expect.stringMatching(/card z is blocked/) as unknown });
    expect(client.events[3]?.data).toMatchObject({ status: 'failed' });
    await expect(fetch(`${job.monitor.url}api/progress`)).rejects.toThrow();
  });

  it('answers /api/progress with the status, uptime, interval and the last 100 batches', async () => {
    const job = await started();
    for (let i = 0; i < 102; i++) await batch(job);
    const progress = (await (await fetch(`${job.monitor.url}api/progress`)).json()) as MonitorSnapshot;
    expect({ ...progress, batches: [] }).toEqual({ status: 'running', batchIntervalMs: 1000, uptimeMs: 102_000, batches: [] });
    expect(progress.batches.map((b) => b.batchId)).toEqual(Array.from({ length: 100 }, (_, i) => i + 2));
  });

  it('answers /api/state/<operator> from committed state, by key, prefix and limit, and names the operators it has', async () => {
    const job = await started();
    job.logins.push(['u1', 'u2', 'u1', 'u3']);
    await batch(job, '{"card":"a","amount":10,"t":95000}', '{"card":"ab","amount":5,"t":95000}', '{"card":"b","amount":1,"t":95000}');
    const get = async (path: string): Promise<{ status: number; body: unknown }> => {
      const res = await fetch(`${job.monitor.url}api/state/${path}`);
      return { status: res.status, body: await res.json() };
    };
    const view = (operator: string, entries: unknown[], more = false) => ({ status: 200, body: { operator, kind: expect.any(String) as unknown, batchId: null, entries, more } });
    expect(await get('cardStats?key=a')).toEqual(view('cardStats', [{ key: 'a', value: 10 }]));
    expect(await get('cardStats?key=%22ab%22')).toEqual(view('cardStats', [{ key: 'ab', value: 5 }]));
    expect(await get('cardStats?key=zz')).toEqual(view('cardStats', []));
    expect(await get('loginCounts?limit=2')).toEqual(view('loginCounts', [{ key: 'u1', value: 2 }, { key: 'u2', value: 1 }], true));
    // A string prefix matches the string keys that start with it, as sluice state --prefix does.
    expect(await get('cardStats?prefix=a')).toEqual(view('cardStats', [{ key: 'a', value: 10 }, { key: 'ab', value: 5 }]));
    expect((await get('cardStats?prefix=42')).status).toBe(400);
    expect(await get('loginCounts')).toMatchObject({ status: 200, body: { more: false } });
    const unknown = await get('nope');
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ operators: expect.arrayContaining(['cardStats', 'loginCounts']) as unknown, error: expect.stringMatching(/cardStats/) as unknown });
    for (const limit of ['0', '10001', 'x', '1.5']) expect((await get(`loginCounts?limit=${limit}`)).status).toBe(400);
    expect((await get('loginCounts?key=u1&prefix=u')).status).toBe(400);
  });

  it('serves the dashboard files from a fixed list', async () => {
    const { monitor } = await started();
    for (const [path, type] of [['', 'text/html'], ['assets/dashboard.js', 'text/javascript'], ['assets/dashboard.css', 'text/css'], ['assets/uPlot.iife.min.js', 'text/javascript'], ['assets/uPlot.min.css', 'text/css']] as const) {
      const res = await fetch(`${monitor.url}${path}`);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type')).toContain(type);
    }
  });

  it('announces itself in the checkpoint directory while it serves, and the checkpoint still opens', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-monitor-'));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    const location = join(dir, 'cp');
    const job = fraudJob({ checkpoint: levelCheckpoint(location) });
    const monitor = await serveMonitor(job.ctx, { token: 't' });
    expect(JSON.parse(await readFile(join(location, MONITOR_DISCOVERY_FILE), 'utf8'))).toEqual({ url: monitor.url, pid: process.pid, token: true });
    await job.ctx.start();
    await batch(job, '{"card":"a","amount":1,"t":95000}');
    await job.ctx.stop();
    await monitor.close();
    expect(await readdir(location)).not.toContain(MONITOR_DISCOVERY_FILE);
  });

  it('refuses a checkpoint directory it cannot write its discovery file into with MONITOR_UNAVAILABLE', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-monitor-'));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    await writeFile(join(dir, 'a-file'), '');
    const { ctx } = fraudJob({ checkpoint: levelCheckpoint(join(dir, 'a-file', 'cp')) });
    await expect(serveMonitor(ctx, { dashboard: false })).rejects.toMatchObject({ code: 'MONITOR_UNAVAILABLE', message: expect.stringMatching(/discovery file/) as unknown });
  });

  it('refuses a port it cannot take with MONITOR_UNAVAILABLE', async () => {
    const { monitor } = await started();
    const { ctx } = fraudJob();
    await expect(serveMonitor(ctx, { port: monitor.port, dashboard: false })).rejects.toMatchObject({ code: 'MONITOR_UNAVAILABLE' });
  });
});
