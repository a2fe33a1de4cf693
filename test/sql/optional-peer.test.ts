import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const repo = fileURLToPath(new URL('../../', import.meta.url));

/*
 * The compiled package in a child process, whose native addons are watched (process.dlopen):
 * DuckDB is an optional peer that only sluice/sql, the CLI's query command and the monitor's
 * query endpoint load, when they are used. (test/package/check-packed.mjs checks the packed
 * package the same way, and that sluice/sql names the peer when it is missing.)
 */
const PROBE = `
const opened = [];
const dlopen = process.dlopen;
process.dlopen = (module, file, ...rest) => { opened.push(file); return dlopen(module, file, ...rest); };
const duckdb = () => opened.some((file) => file.includes('duckdb'));
for (const entry of ['sluice', 'sluice/state', 'sluice/windows', 'sluice/checkpoint', 'sluice/extend', 'sluice/monitor']) await import(entry);
await import('./dist/cli/program.js');
const before = duckdb();
await import('sluice/sql');
console.log(JSON.stringify({ before, after: duckdb() }));
`;

describe('DuckDB is an optional peer', () => {
  it("import 'sluice' (and every entry point but sluice/sql, and the CLI) loads no DuckDB; sluice/sql does", async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', PROBE], { cwd: repo, timeout: 60_000 });
    expect(JSON.parse(stdout)).toEqual({ before: false, after: true });
  });
});
