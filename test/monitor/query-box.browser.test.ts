import { describe, expect, it } from 'vitest';
import { serveMonitor } from 'sluice/monitor';
import { chromiumFor, useChromium } from '../support/chromium.js';
import { fraudJob } from './fraud-job.js';

/*
 * The dashboard's query box in a real browser (test/support/chromium.ts).
 */
describe.skipIf(!chromiumFor("the query box's browser test"))("the dashboard's query box in Chromium", () => {
  const browser = useChromium();

  it("runs a SELECT over the job's state and shows its rows; shows the server's refusal of anything else", async () => {
    const job = fraudJob();
    const token = 'box-token';
    const monitor = await serveMonitor(job.ctx, { token });
    await job.ctx.start();
    try {
      job.logins.push(['u1', 'u2', 'u1']);
      await job.clock.advance(1000);
      const page = await browser().newPage();
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));
      await page.goto(`${monitor.url}?token=${token}`);
      await page.fill('#query-text', 'SELECT key AS "user", value AS logins FROM "loginCounts" ORDER BY "user"');
      await page.click('#query-run');
      await expect.poll(() => page.locator('#query-status').textContent(), { timeout: 10_000 }).toBe('2 rows as of batch 0');
      expect(await page.locator('#query-result thead th').allTextContents()).toEqual(['user', 'logins']);
      expect(await page.locator('#query-result tbody tr').count()).toBe(2);
      expect(await page.locator('#query-result tbody td').allTextContents()).toEqual(['u1', '2', 'u2', '1']);

      await page.fill('#query-text', 'DELETE FROM "loginCounts"');
      await page.click('#query-run');
      await expect.poll(() => page.locator('#query-status').textContent(), { timeout: 10_000 }).toMatch(/read-only/);
      expect(await page.locator('#query-status').getAttribute('class')).toMatch(/query-error/);
      expect(await page.locator('#query-result tbody tr').count()).toBe(0);
      expect(errors).toEqual([]);
      await page.close();
    } finally {
      await job.ctx.stop();
      await monitor.close();
    }
  });
});
