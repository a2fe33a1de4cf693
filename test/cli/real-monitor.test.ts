import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ManualClock } from 'sluice';
import { formatInspection, inspectContext, inspectionJson, readContextState, stateToJson } from 'sluice/checkpoint';
import { serveMonitor } from 'sluice/monitor';
import { useTempDir } from '../support/temp-dir.js';
import { cli, countingContext, fixture, sluice, startSluice } from './cli-harness.js';

const dir = useTempDir();

describe('the sluice command on a running job, through its real monitor', () => {
  it('inspect, state and check read the running job through serveMonitor, with its token, as they read a stopped checkpoint', async () => {
    const checkpoint = join(dir(), 'ckpt');
    const clock = new ManualClock();
    const ctx = countingContext(checkpoint, clock);
    const monitor = await serveMonitor(ctx, { token: 'secret' });
    await ctx.start();
    await clock.advance(3000);
    try {
      const env = { SLUICE_MONITOR_TOKEN: 'secret' };
      // inspect: the same report as the context's own inspection, text and JSON.
      const info = await inspectContext(ctx);
      expect(await cli(['inspect', checkpoint], env)).toEqual({ code: 0, out: formatInspection(info), err: '' });
      expect((await cli(['inspect', checkpoint, '--json'], env)).out).toBe(inspectionJson(info));
      // Without the token the monitor refuses, and the command says so.
      expect(await cli(['inspect', checkpoint])).toMatchObject({ code: 1, err: expect.stringMatching(/401|token/i) as unknown });
      // state: one key, a prefix, JSON; the same as readContextState.
      expect(await cli(['state', checkpoint, 'counts', '--key', 'user-0'], env)).toEqual({ code: 0, out: 'counts (updateStateByKey) at batch 2: 1 entry\n  "user-0" = 4', err: '' });
      const json = await cli(['state', checkpoint, 'counts', '--prefix', 'user-', '--json'], env);
      expect(JSON.parse(json.out)).toEqual(JSON.parse(stateToJson(await readContextState(ctx, 'counts', { prefix: 'user-' }))));
      expect(await cli(['state', checkpoint, 'cards', '--key', '["card",1]'], env)).toMatchObject({ code: 0, out: expect.stringMatching(/^cards \(mapWithState\) at batch 2: 1 entry\n {2}\["card",1\] = 11$/) as unknown });
      expect(await cli(['state', checkpoint, 'nope'], env)).toMatchObject({ code: 1, err: expect.stringMatching(/nope.*counts/) as unknown });
      // check, against the running job's fingerprint (from /api/checkpoint): that module runs 100 ms batches.
      const check = await sluice(['check', checkpoint, fixture('counting-job.mjs')], { ...env, SLUICE_TEST_DIR: dir() });
      expect(check.code).toBe(1);
      expect(check.out).toMatch(/^not compatible: .*counting-job\.mjs cannot restart from the checkpoint at .*: the batch interval was 1000 ms and is now 100 ms\.$/);
    } finally {
      await ctx.stop();
      await monitor.close();
    }
  });

  it('sluice run --monitor serves the running job\'s metrics and API, and closes with it', async () => {
    const job = startSluice(['run', fixture('counting-job.mjs'), '--monitor', '0'], { SLUICE_TEST_DIR: dir() });
    const url = await new Promise<string>((resolve, reject) => {
      job.onLine((line) => {
        const found = /monitor at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(line);
        if (found !== null) resolve(found[1] as string);
      });
      void job.exit.then((exit) => { reject(new Error(`sluice run ended first: ${JSON.stringify(exit)}`)); });
    });
    let batches = 0;
    for (let tries = 0; batches < 2 && tries < 100; tries++) {
      const progress = (await (await fetch(`${url}api/progress`)).json()) as { batches: unknown[] };
      batches = progress.batches.length;
      if (batches < 2) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(batches).toBeGreaterThanOrEqual(2);
    const metrics = await (await fetch(`${url}metrics`)).text();
    expect(metrics).toMatch(/^sluice_batches_completed_total\{job="sluice"\} [1-9]/m);
    const counts = (await (await fetch(`${url}api/state/counts?key=k0`)).json()) as { entries: { key: string; value: number }[] };
    expect(counts.entries[0]?.key).toBe('k0');
    job.child.kill('SIGINT');
    expect((await job.exit).code).toBe(0);
    await expect(fetch(`${url}metrics`)).rejects.toThrow();
  });

  it('sluice run refuses a --monitor that is not a port (exit 2)', async () => {
    expect(await cli(['run', fixture('counting-job.mjs'), '--monitor', 'http'])).toMatchObject({ code: 2, err: expect.stringMatching(/give a port from 0 to 65535/) as unknown });
  });
});
