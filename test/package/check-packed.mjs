#!/usr/bin/env node
/*
 * Proves the published package type-checks and runs in a user's project: packs it (npm pack, from
 * the current dist/, so build first), installs the tarball with fast-check and @types/node into a
 * temporary strict ESM project (strict, skipLibCheck: false, module and moduleResolution nodenext),
 * checks that the entry points load without the connectors' optional peers (and that a connector
 * names the peer it needs) and that its bin runs (`npx sluice --version`), installs the peers,
 * compiles test/package/consumer/main.ts there with the repository's TypeScript, and runs the
 * compiled file with node. Dependencies come from the npm cache when it has them (--prefer-offline).
 *
 * Usage: npm run build && node test/package/check-packed.mjs   (or: npm run test:package)
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, URL } from 'node:url';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const consumer = fileURLToPath(new URL('./consumer/main.ts', import.meta.url));
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const started = performance.now();

function step(what, command, args, cwd) {
  console.log(`check-packed: ${what}`);
  try {
    return execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    process.stderr.write(`check-packed: ${what} failed:\n${error.stdout ?? ''}${error.stderr ?? ''}\n`);
    process.exit(1);
  }
}

const dir = mkdtempSync(join(tmpdir(), 'sluice-packed-'));
try {
  step('npm pack', npm, ['pack', '--silent', '--pack-destination', dir], repo);
  const tarball = readdirSync(dir).find((name) => name.endsWith('.tgz'));
  if (tarball === undefined) throw new Error('npm pack made no tarball');
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'sluice-consumer', private: true, type: 'module' }, null, 2));
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify(
      {
        compilerOptions: {
          target: 'ES2022',
          lib: ['ES2023'],
          module: 'nodenext',
          moduleResolution: 'nodenext',
          types: ['node'],
          strict: true,
          skipLibCheck: false,
          noEmitOnError: true,
          outDir: 'dist',
        },
        files: ['main.ts'],
      },
      null,
      2,
    ),
  );
  mkdirSync(join(dir, 'node_modules'));
  copyFileSync(consumer, join(dir, 'main.ts'));
  step(
    `npm install ./${tarball} fast-check @types/node`,
    npm,
    ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', `./${tarball}`, 'fast-check@^4', '@types/node@^20'],
    dir,
  );
  // The optional peers of the connectors are not installed yet: the core's entry points must load
  // without them, and a connector's must say which package it needs.
  const probe = [
    "for (const entry of ['sluice', 'sluice/state', 'sluice/windows', 'sluice/checkpoint', 'sluice/extend', 'sluice/testing', 'sluice/ml']) await import(entry);",
    "for (const [entry, peer] of [['sluice/postgres', 'pg'], ['sluice/redis', 'redis'], ['sluice/nats', '@nats-io/'], ['sluice/mqtt', 'mqtt'], ['sluice/monitor', 'prom-client']]) {",
    "  const missing = await import(entry).then(() => 'loaded', (e) => String(e.message));",
    "  if (!missing.includes(`Cannot find package '${peer}`)) throw new Error(`${entry} without ${peer}: ${missing}`);",
    "}",
  ].join('\n');
  step('the entry points load without the optional peers', process.execPath, ['--input-type=module', '-e', probe], dir);
  // The bin: its dependencies (commander, log-update) installed with the package, its files packed.
  const version = step('npx sluice --version', npm, ['exec', '--offline', '--', 'sluice', '--version'], dir).trim();
  if (version !== JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')).version) throw new Error(`npx sluice --version printed ${version}`);
  step('npm install pg redis @nats-io/jetstream @nats-io/transport-node mqtt prom-client uplot', npm, ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', 'pg@^8', 'redis@^6', '@nats-io/jetstream@^3', '@nats-io/transport-node@^3', 'mqtt@^5', 'prom-client@^15', 'uplot@^1.6'], dir);
  step('tsc (strict, skipLibCheck: false, nodenext)', process.execPath, [tsc, '-p', 'tsconfig.json'], dir);
  const output = step('node dist/main.js', process.execPath, ['dist/main.js'], dir);
  process.stdout.write(output);
  console.log(`check-packed: the packed package type-checks and runs in a strict project (${((performance.now() - started) / 1000).toFixed(1)} s)`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
