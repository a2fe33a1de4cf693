import { existsSync } from 'node:fs';
import { mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { SystemClock } from 'sluice';
import { serveMonitor, type MonitorServer } from 'sluice/monitor';
import { chromiumFor, useChromium } from '../support/chromium.js';
import { fraudJob, type FraudJob } from './fraud-job.js';

/*
 * The dashboard in a real browser (test/support/chromium.ts).
 * UPDATE_SCREENSHOT=1 writes the screenshot of a realistic run to docs/images/dashboard.png.
 */
describe.skipIf(!chromiumFor("the dashboard's browser test"))('the dashboard in Chromium', () => {
  const browser = useChromium();

  const status = (page: Page): Promise<string | null> => page.locator('#status').getAttribute('data-status');
  const rows = (page: Page): Promise<number> => page.locator('#batches tbody tr.batch').count();
  const until = async (page: Page, what: () => Promise<unknown>, expected: unknown): Promise<void> => {
    await expect.poll(what, { timeout: 10_000 }).toEqual(expected);
  };

  async function batch(job: FraudJob, ...payments: string[]): Promise<void> {
    job.payments.push(...payments);
    await job.clock.advance(1000);
  }

  it('loads, draws its charts, grows its table batch by batch, shows the stop, then reconnects and shows a failed batch', async () => {
    const first = fraudJob();
    const monitor = await serveMonitor(first.ctx);
    const page = await browser().newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(monitor.url);
    await first.ctx.start();
    await until(page, () => status(page), 'running');
    for (let i = 0; i < 3; i++) {
      first.logins.push(['u1', `u${i}`]);
      await batch(first, `{"card":"c${i}","amount":${10 + i},"t":${95_000 + i * 500}}`, 'not json');
      await until(page, () => rows(page), i + 1);
    }
    const canvases = await page.$$eval('.chart canvas', (all) => all.map((c) => { const canvas = c as unknown as { width: number; height: number }; return [canvas.width, canvas.height]; }));
    expect(canvases).toHaveLength(6);
    for (const [width, height] of canvases) expect(width! * height!).toBeGreaterThan(0);
    expect(await page.locator('#last-batch').textContent()).toMatch(/^#2 /);
    await page.locator('#batches tbody tr.batch').first().click();
    await expect.poll(() => page.locator('#batches tr.operators').textContent()).toMatch(/cardStats.*loginCounts|loginCounts.*cardStats/s);
    await first.ctx.stop();
    await until(page, () => status(page), 'stopped');

    // The server comes back (a new run on the same port): the page reconnects by itself.
    const second = fraudJob({ failOn: 'z' });
    const again: MonitorServer = await serveMonitor(second.ctx, { port: monitor.port });
    await second.ctx.start();
    await until(page, () => status(page), 'running');
    await until(page, () => rows(page), 0);
    await batch(second, '{"card":"a","amount":1,"t":95000}');
    await batch(second, '{"card":"z","amount":1,"t":95500}');
    await expect(second.ctx.awaitTermination()).rejects.toThrow(/blocked/);
    await until(page, () => status(page), 'failed');
    expect(await page.locator('#error').isVisible()).toBe(true);
    expect(await page.locator('#error-where').textContent()).toBe('USER_FUNCTION_FAILED in batch 1, operator cardStats');
    expect(await page.locator('#error-message').textContent()).toMatch(/card z is blocked/);
    expect(await rows(page)).toBe(1);
    expect(errors).toEqual([]);
    await again.close();
    await page.close();
  }, 60_000);

  it('takes the screenshot of a realistic run: a fraud job with two sources and stateful operators', async () => {
    const job = fraudJob({ batchInterval: '250ms', clock: new SystemClock() });
    const monitor = await serveMonitor(job.ctx);
    const page = await browser().newPage();
    await page.goto(monitor.url);
    await job.ctx.start();
    const now = (): number => new SystemClock().now();
    let n = 0;
    for (let round = 0; round < 60; round++) {
      const wave = 20 + Math.round(15 * Math.sin(round / 6)) + (round % 7);
      for (let i = 0; i < wave; i++, n++) {
        // Event times trail processing time by up to 2 s; every 40th line is malformed, a few payments are late.
        job.payments.push(n % 40 === 39 ? 'garbled' : JSON.stringify({ card: `card-${(n * 7919) % 120}`, amount: (n * 31) % 500, t: now() - ((n * 37) % 2000) - (n % 97 === 0 ? 10_000 : 0) }));
      }
      job.logins.push(Array.from({ length: 3 + (round % 5) }, (_, i) => `user-${(round * 13 + i) % 40}`));
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    await until(page, async () => (await rows(page)) >= 40, true);
    const file = process.env.UPDATE_SCREENSHOT === '1' ? fileURLToPath(new URL('../../docs/images/dashboard.png', import.meta.url)) : join(await mkdtemp(join(tmpdir(), 'sluice-dashboard-')), 'dashboard.png');
    await mkdir(join(file, '..'), { recursive: true });
    await page.locator('#batches tbody tr.batch').nth(1).click();
    await page.screenshot({ path: file, fullPage: false });
    expect(existsSync(file)).toBe(true);
    await job.ctx.stop();
    await monitor.close();
    await page.close();
  }, 60_000);
});
