import { execFile } from 'node:child_process';
import { readdir, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/*
 * A few suites run the compiled package in child processes (the SIGKILL crash test, the node:test
 * example). CI builds before testing; on a fresh clone, or after a source changed, the build runs
 * here once, before any test file starts, so no test reads dist/ while another rewrites it.
 */

const repo = fileURLToPath(new URL('../', import.meta.url));
/** The folders tsconfig.build.json compiles. */
const SOURCES = ['cli', 'core', 'state', 'windows', 'checkpoint', 'connectors', 'monitor', 'ml', 'sql', 'test/kit', 'examples'];
/** Files the build copies as they are (the dashboard's assets): a change to one makes the build stale too. */
const COPIED = 'monitor/assets/';
/** A compiled file every suite that runs dist/ needs. */
const STAMP = join(repo, 'dist/checkpoint/index.js');

async function mtime(path: string): Promise<number> {
  return stat(path).then(
    (s) => s.mtimeMs,
    () => 0,
  );
}

async function stale(): Promise<boolean> {
  const built = await mtime(STAMP);
  if (built === 0) return true;
  for (const folder of SOURCES) {
    for (const file of await readdir(join(repo, folder), { recursive: true })) {
      if ((file.endsWith('.ts') || join(folder, file).startsWith(COPIED)) && (await mtime(join(repo, folder, file))) > built) return true;
    }
  }
  return false;
}

export default async function setup(): Promise<void> {
  if (!(await stale())) return;
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  await promisify(execFile)(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: repo, timeout: 180_000 }).catch((error: unknown) => {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`the build the tests need (tsc -p tsconfig.build.json) failed:\n${stdout}${stderr}`, { cause: error });
  });
  // The rest of `npm run build`: the dashboard's assets beside the compiled monitor.
  await promisify(execFile)(process.execPath, [join(repo, 'monitor/copy-assets.mjs')], { cwd: repo });
}
