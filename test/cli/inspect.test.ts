import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ManualClock } from 'sluice';
import { formatInspection, inspectCheckpoint, inspectContext, inspectionJson } from 'sluice/checkpoint';
import { useTempDir } from '../support/temp-dir.js';
import { cli, closedPort, countingContext, makeCheckpoint, sluice, standInMonitor } from './cli-harness.js';

const dir = useTempDir();
const checkpoint = (): string => join(dir(), 'ckpt');

describe('sluice inspect', () => {
  it('--version prints the package version', async () => {
    const manifest = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(await cli(['--version'])).toEqual({ code: 0, out: manifest.version, err: '' });
  });

  it('prints the report, or with --json the same JSON as inspectionJson, and exits 0 (the built bin too)', async () => {
    await makeCheckpoint(checkpoint(), 5);
    const info = await inspectCheckpoint(checkpoint());
    expect(await cli(['inspect', checkpoint()])).toEqual({ code: 0, out: formatInspection(info), err: '' });
    const json = await sluice(['inspect', '--json', checkpoint()]);
    expect(json).toMatchObject({ code: 0, stderr: '', out: inspectionJson(info) });
    expect(JSON.parse(json.out)).toMatchObject({ lastCommitted: { batchId: 4 }, sources: [{ name: 'rate', offset: { rows: 20 } }] });
  });

  it('writes what a checkpoint does not have yet as null in JSON', async () => {
    await makeCheckpoint(checkpoint(), 0);
    const { code, out } = await cli(['inspect', checkpoint(), '--json']);
    expect(code).toBe(0);
    expect(JSON.parse(out)).toMatchObject({ lastCommitted: null, lastPersisted: null, watermark: null, pending: [] });
  });

  it('exits 1 with a clear message for a missing directory', async () => {
    expect(await cli(['inspect', join(dir(), 'missing')])).toMatchObject({ code: 1, out: '', err: expect.stringMatching(/^sluice inspect: CHECKPOINT_UNAVAILABLE: There is no checkpoint at/) as unknown });
  });

  it('--verify: reports a sound checkpoint verified (exit 0), and the first damage with its file (exit 1)', async () => {
    await makeCheckpoint(checkpoint(), 5);
    const log = join(checkpoint(), (await readdir(checkpoint())).find((name) => name.endsWith('.log')) ?? '');
    const bytes = await readFile(log);
    bytes[10] = (bytes[10] as number) ^ 1;
    await writeFile(log, bytes);
    const damaged = await cli(['inspect', '--verify', checkpoint()]);
    expect(damaged).toMatchObject({ code: 1, out: '', err: expect.stringMatching(/^sluice inspect: CHECKPOINT_CORRUPT: .*LevelDB's file \d+\.log: damaged at byte 0 \(checksum mismatch\)/) as unknown });
    await rm(checkpoint(), { recursive: true });
    await makeCheckpoint(checkpoint(), 5);
    const sound = await cli(['inspect', checkpoint(), '--verify']);
    expect(sound).toMatchObject({ code: 0, err: '' });
    expect(sound.out).toMatch(/\n {2}verified: {7}every block checksum, and \d+ entries read and decoded: no damage$/);
  });

  it('exits 2 for no, unknown or incomplete arguments, saying what is wrong; --help prints usage with an example (exit 0)', async () => {
    const cases: [string[], RegExp][] = [
      [[], /^Usage: sluice \[options\] \[command\]/],
      [['bogus'], /^error: unknown command 'bogus'/],
      [['inspect'], /^error: missing required argument 'checkpoint'/],
      [['inspect', 'a', 'b'], /^error: too many arguments for 'inspect'\. Expected 1 argument but got 2\./],
      [['inspect', 'a', '--yaml'], /^error: unknown option '--yaml'/],
    ];
    for (const [argv, message] of cases) {
      const result = await cli(argv);
      expect(result.code, argv.join(' ')).toBe(2);
      expect(result.err, argv.join(' ')).toMatch(message);
    }
    expect((await cli(['inspect', 'a', '--yaml'])).err).toMatch(/\(add --help for usage and an example\)$/);
    const help = await cli(['inspect', '--help']);
    expect(help).toMatchObject({ code: 0, out: expect.stringMatching(/^Usage: sluice inspect \[options\] <checkpoint>[\s\S]*--json[\s\S]*Examples:\n {2}sluice inspect \.\/ckpt/) as unknown });
  });

  describe('of a running job (its LevelDB lock held)', () => {
    async function running(): Promise<{ ctx: ReturnType<typeof countingContext>; clock: ManualClock }> {
      const clock = new ManualClock();
      const ctx = countingContext(checkpoint(), clock);
      await ctx.start();
      await clock.advance(3000);
      return { ctx, clock };
    }

    it('says the job is running and how to serve its monitor when it serves none (exit 1), and when its monitor does not answer', async () => {
      const { ctx } = await running();
      try {
        const none = await sluice(['inspect', checkpoint()]);
        expect(none.code).toBe(1);
        expect(none.stderr).toBe(
          `sluice inspect: The checkpoint at ${checkpoint()} is in use by a running job (LevelDB's lock is held), which serves no monitor. Serve its monitor (run it with sluice run --monitor PORT, or call serveMonitor(ctx, { port }) in its program) and run this again, or stop the job first.\n`,
        );
        const port = await closedPort();
        await writeFile(join(checkpoint(), 'sluice-monitor.json'), JSON.stringify({ url: `http://127.0.0.1:${port}`, pid: 12345, token: false }));
        const dead = await cli(['inspect', checkpoint()]);
        expect(dead).toMatchObject({ code: 1, err: expect.stringMatching(new RegExp(`^sluice inspect: .* but its monitor at http://127\\.0\\.0\\.1:${port} \\(process 12345\\) does not answer: .*ECONNREFUSED.* If the job died, the lock is released`)) as unknown });
        expect(await cli(['inspect', checkpoint(), '--verify'])).toMatchObject({ code: 1, err: expect.stringMatching(/--verify reads every file, which only a stopped job's checkpoint allows/) as unknown });
      } finally {
        await ctx.stop();
      }
    });

    it("prints the report its monitor serves at /api/checkpoint, with the token of --token or SLUICE_MONITOR_TOKEN", async () => {
      const { ctx } = await running();
      const monitor = await standInMonitor(checkpoint(), 's3cret', async () => inspectionJson(await inspectContext(ctx)));
      try {
        const expected = await inspectContext(ctx);
        expect(await cli(['inspect', checkpoint()])).toMatchObject({ code: 1, err: expect.stringMatching(/requires a token: pass --token TOKEN, or set SLUICE_MONITOR_TOKEN\.$/) as unknown });
        expect(await cli(['inspect', checkpoint(), '--token', 'wrong'])).toMatchObject({ code: 1, err: expect.stringMatching(/refused the token \(401\)/) as unknown });
        expect(await cli(['inspect', checkpoint(), '--token', 's3cret'])).toEqual({ code: 0, out: formatInspection(expected), err: '' });
        expect(await cli(['inspect', checkpoint(), '--json'], { SLUICE_MONITOR_TOKEN: 's3cret' })).toEqual({ code: 0, out: inspectionJson(expected), err: '' });
        expect(monitor.requests.filter((r) => r !== '/api/checkpoint')).toEqual([]);
      } finally {
        await monitor.close();
        await ctx.stop();
      }
    });
  });
});
