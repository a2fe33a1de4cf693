import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { apiOf, ENTRY_POINTS, formatReport, type ApiEntry } from './api-report.js';

const REPORT = fileURLToPath(new URL('../../docs/api-report.md', import.meta.url));

let report: Record<string, ApiEntry[]>;
beforeAll(() => {
  report = apiOf();
}, 120_000);

describe('the public API', () => {
  it('is the committed report docs/api-report.md (regenerate it with UPDATE_API_REPORT=1 after a deliberate change)', async () => {
    const text = formatReport(report);
    if (process.env.UPDATE_API_REPORT === '1') await writeFile(REPORT, text);
    expect(text).toBe(await readFile(REPORT, 'utf8'));
  });

  it('gives each name to one entry point only: one name per thing', () => {
    const owners = new Map<string, string[]>();
    for (const [entry, entries] of Object.entries(report)) for (const { name } of entries) owners.set(name, [...(owners.get(name) ?? []), entry]);
    expect([...owners].filter(([, entries]) => entries.length > 1)).toEqual([]);
  });

  it('has no `any` in a public signature', () => {
    const withAny = Object.entries(report).flatMap(([entry, entries]) =>
      entries.filter(({ lines }) => lines.some((line) => /\bany\b/.test(line))).map(({ name }) => `${entry}: ${name}`),
    );
    expect(withAny).toEqual([]);
  });

  it('reports every entry point of package.json', async () => {
    const pkg = JSON.parse(await readFile(fileURLToPath(new URL('../../package.json', import.meta.url)), 'utf8')) as { exports: Record<string, { default: string }> };
    const exported = Object.entries(pkg.exports).map(([path, target]) => [path === '.' ? 'sluice' : `sluice${path.slice(1)}`, target.default.replace(/^\.\/dist\//, '').replace(/\.js$/, '.ts')]);
    expect(Object.fromEntries(exported)).toEqual(ENTRY_POINTS);
  });
});
