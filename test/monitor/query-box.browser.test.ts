import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveMonitor } from 'sluice/monitor';
import { fraudJob } from './fraud-job.js';

/*
 * The dashboard's query box in a real browser, in the style of dashboard.browser.test.ts (which
 * says how Chromium is found, and when its absence fails the run instead of skipping it).
 */
const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

if (!existsSync(CHROMIUM) && process.env.SLUICE_REQUIRE_SERVICES === '1') throw new Error(`the query box's browser test: ${CHROMIUM} is missing; SLUICE_REQUIRE_SERVICES=1 requires it.`);

describe.skipIf(!existsSync(CHROMIUM))("the dashboard's query box in Chromium", () => {
  let profile: string;
  let browser: BrowserContext;
  beforeAll(async () => {
    profile = await mkdtemp(join(tmpdir(), 'sluice-chromium-'));
    browser = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, args: ARGS, viewport: { width: 1400, height: 1000 } });
  }, 60_000);
  afterAll(async () => {
    await browser.close();
    await rm(profile, { recursive: true, force: true });
  });

  it("runs a SELECT over the job's state and shows its rows; shows the server's refusal of anything else", async () => {
    const job = fraudJob();
    const token = 'box-token';
    const monitor = await serveMonitor(job.ctx, { token });
    await job.ctx.start();
    try {
      job.logins.push(['u1', 'u2', 'u1']);
      await job.clock.advance(1000);
      const page = await browser.newPage();
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
