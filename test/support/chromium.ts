import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';

/*
 * Debian's Chromium, headless, driven by playwright-core, for the suites that test web pages.
 * Without it a suite is skipped with a message; under SLUICE_REQUIRE_SERVICES=1 (.ci/run) it fails.
 */

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/**
 * Whether Chromium is here for the suite `what`: false (after a warning) when it is missing, and
 * a thrown error instead under SLUICE_REQUIRE_SERVICES=1. Call at the top level of the test file.
 */
export function chromiumFor(what: string): boolean {
  if (existsSync(CHROMIUM)) return true;
  const why = `${CHROMIUM} is missing (apt-get install -y chromium)`;
  if (process.env.SLUICE_REQUIRE_SERVICES === '1') throw new Error(`${what}: ${why}; SLUICE_REQUIRE_SERVICES=1 requires it.`);
  console.warn(`skipped ${what}: ${why}.`);
  return false;
}

/**
 * A browser for the enclosing `describe`: launched (with a fresh profile) before its tests,
 * closed and its profile deleted after them. Read `browser()` inside tests.
 */
export function useChromium(): () => BrowserContext {
  let profile: string;
  let browser: BrowserContext | undefined;
  beforeAll(async () => {
    profile = await mkdtemp(join(tmpdir(), 'sluice-chromium-'));
    browser = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, args: ARGS, viewport: { width: 1400, height: 1000 } });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await rm(profile, { recursive: true, force: true });
  });
  return () => {
    if (browser === undefined) throw new Error('useChromium: the browser is read before the suite started it.');
    return browser;
  };
}
